package moderation_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestAuditActionsComplete: AuditActions lists every Audit* constant of
// audit.go, so a new action is never refused by the API's action filter.
func TestAuditActionsComplete(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING && len(name.Name) > 5 && name.Name[:5] == "Audit" {
				v, _ := strconv.Unquote(lit.Value)
				consts = append(consts, v)
			}
		}
		return true
	})
	got := moderation.AuditActions()
	slices.Sort(consts)
	slices.Sort(got)
	if len(consts) == 0 || !slices.Equal(consts, got) {
		t.Fatalf("AuditActions() = %v, audit.go declares %v", got, consts)
	}
}
