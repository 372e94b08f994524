package moderation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Audit actions. Every security-relevant act is one of these.
const (
	AuditLogin         = "login"
	AuditLoginFailed   = "login_failed"
	AuditClaim         = "claim"
	AuditViewMedia     = "view_media"
	AuditDecision      = "decision"
	AuditReversal      = "reversal"
	AuditRulePublish   = "rule_publish"
	AuditRuleRollback  = "rule_rollback"
	AuditBankImport    = "bank_import"
	AuditBankConfirm   = "bank_confirm"
	AuditPermission    = "permission_change"
	AuditLegalHold     = "legal_hold"
	AuditLegalHoldLift = "legal_hold_lift"
	AuditPurge         = "retention_purge"
	// AuditEvidenceExport records an item's evidence package handed out;
	// its details carry the manifest's SHA-256.
	AuditEvidenceExport = "evidence_exported"
	// AuditPasswordChange records users changing their own password
	// (an admin's reset is a permission_change); a wrong current
	// password is a login_failed event.
	AuditPasswordChange = "password_change"
	// AuditAppealReceived records a user's appeal taken in from the
	// platform; AuditAppealResolved its resolution (a reinstatement's
	// reversal has its own reversal event).
	AuditAppealReceived = "appeal_received"
	AuditAppealResolved = "appeal_resolved"
)

// AuditBankQuarantine records a hash-bank entry taken out of service, by a
// worker's guard (it matched an abnormal share of media) or by a person;
// AuditBankConfirm records its release.
const AuditBankQuarantine = "bank_quarantine"

// AuditActions lists every audit action, for filters that must refuse an
// unknown one rather than answer with nothing.
func AuditActions() []string {
	return []string{
		AuditLogin, AuditLoginFailed, AuditClaim, AuditViewMedia, AuditDecision, AuditReversal,
		AuditRulePublish, AuditRuleRollback, AuditBankImport, AuditBankConfirm, AuditBankQuarantine,
		AuditPermission, AuditLegalHold, AuditLegalHoldLift, AuditPurge, AuditEvidenceExport, AuditPasswordChange,
		AuditAppealReceived, AuditAppealResolved,
	}
}

// AuditEvent is one entry of the append-only, hash-chained audit log.
type AuditEvent struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject,omitempty"`
	Details  json.RawMessage `json:"details,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// ChainHash computes an event's hash from its content and the previous
// event's hash. Details must be in the canonical form stored in the log
// (Postgres jsonb output), which the adapter guarantees by hashing what it
// reads back. Fields are length-prefixed so no two events collide by
// shifting bytes between fields.
func ChainHash(prevHash string, seq int64, at time.Time, actor, action, subject string, details []byte) string {
	h := sha256.New()
	for _, f := range [][]byte{
		[]byte(prevHash),
		[]byte(strconv.FormatInt(seq, 10)),
		[]byte(at.UTC().Format(time.RFC3339Nano)),
		[]byte(actor), []byte(action), []byte(subject), details,
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write(f)
	}
	return hex.EncodeToString(h.Sum(nil))
}
