package cli

// registered lists the constructors of commands defined in other files of
// this package. Each file adds its command here, in this one list, so the
// command table stays in one place:
//
//	hash   (hash.go):  perceptual hashes of image files
//	rules  (rules.go): validate, test, backtest, publish, history, rollback
//	banks  (banks.go): import hash lists
//	users  (users.go): add, disable, reset-password, token
//	audit  (audit.go): verify the audit chain
//	report (report.go): transparency reports, decision exports
//	evidence (evidence.go): an item's evidence package
var registered = []func() Command{hashCommand, rulesCommand, banksCommand, usersCommand, auditCommand, reportCommand, evidenceCommand}
