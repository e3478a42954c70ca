package audience

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// exprProgram is a compiled {"expr": ...} leaf and the names it reads.
type exprProgram struct {
	prog     cel.Program
	traits   []string
	computed []string
}

// exprEnv declares what an expression sees: two maps from name to value.
// It has no clock: an expression's value changes only with the data, which
// keeps NextChange exact.
var exprEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("traits", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("computed", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxStringBytes),
	)
})

func checkExpr(c *Condition) *fieldError {
	switch {
	case strings.TrimSpace(c.Expr) == "":
		return fieldErr("expr", "the expression is empty")
	case len(c.Expr) > MaxStringBytes:
		return fieldErr("expr", "the expression is longer than %d bytes", MaxStringBytes)
	case !utf8.ValidString(c.Expr):
		return fieldErr("expr", "the expression is not valid UTF-8")
	}
	p, err := compileExpr(c.Expr)
	if err != nil {
		return fieldErr("expr", "%v", err)
	}
	c.prog = p
	return nil
}

func compileExpr(src string) (*exprProgram, error) {
	env, err := exprEnv()
	if err != nil {
		return nil, fmt.Errorf("the expression language failed to start: %w", err)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(iss.Err().Error(), "ERROR: <input>:", "in the expression at "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression gives %s; it must give true or false", t)
	}
	p := &exprProgram{}
	if err := p.readNames(ast.NativeRep().Expr()); err != nil {
		return nil, err
	}
	p.prog, err = env.Program(ast, cel.CostLimit(ExprCostLimit))
	if err != nil {
		return nil, fmt.Errorf("the expression cannot run: %w", err)
	}
	return p, nil
}

// readNames collects the traits and computed traits the expression reads,
// so that Dependencies is exact and evaluation fetches only those. It
// refuses any other use of the two maps (iterating them, passing them
// whole): the engine could not tell which changes matter.
func (p *exprProgram) readNames(root celast.Expr) error {
	named := map[int64]bool{} // ids of the variable references read by name
	sets := map[string]map[string]bool{"traits": {}, "computed": {}}
	celast.PostOrderVisit(root, celast.NewExprVisitor(func(e celast.Expr) {
		if v, field, id, ok := namedAccess(e); ok {
			sets[v][field] = true
			named[id] = true
		}
	}))
	var bad string
	celast.PostOrderVisit(root, celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.IdentKind && sets[e.AsIdent()] != nil && !named[e.ID()] {
			bad = e.AsIdent()
		}
	}))
	if bad != "" {
		return fmt.Errorf("read %s by name, like %s.plan or %s[\"plan\"]", bad, bad, bad)
	}
	p.traits, p.computed = sortedKeys(sets["traits"]), sortedKeys(sets["computed"])
	return nil
}

// namedAccess recognises traits.x, has(traits.x) and traits["x"] (and the
// same on computed): it returns the variable, the name and the id of the
// variable's reference.
func namedAccess(e celast.Expr) (variable, name string, id int64, ok bool) {
	var operand celast.Expr
	switch e.Kind() {
	case celast.SelectKind:
		operand, name = e.AsSelect().Operand(), e.AsSelect().FieldName()
	case celast.CallKind:
		call := e.AsCall()
		if call.FunctionName() != operators.Index || len(call.Args()) != 2 {
			return "", "", 0, false
		}
		key := call.Args()[1]
		if key.Kind() != celast.LiteralKind || key.AsLiteral().Type() != types.StringType {
			return "", "", 0, false
		}
		operand, name = call.Args()[0], key.AsLiteral().Value().(string)
	default:
		return "", "", 0, false
	}
	if operand.Kind() != celast.IdentKind {
		return "", "", 0, false
	}
	switch v := operand.AsIdent(); v {
	case "traits", "computed":
		return v, name, operand.ID(), true
	}
	return "", "", 0, false
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// eval runs the expression over the subject. A missing trait is simply
// absent from the map, so traits.x fails and has(traits.x) is false; a
// failure makes the condition false and is shown in the explanation.
func (p *exprProgram) eval(s Subject) (bool, error) {
	traits := make(map[string]any, len(p.traits))
	for _, n := range p.traits {
		if v, ok := s.Trait(n); ok && v.kind != ValueNull {
			traits[n] = v.Native()
		}
	}
	computed := make(map[string]any, len(p.computed))
	for _, n := range p.computed {
		if v, ok := s.Computed(n); ok && v.kind != ValueNull {
			computed[n] = v.Native()
		}
	}
	out, _, err := p.prog.Eval(map[string]any{"traits": traits, "computed": computed})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the expression gave %s, not true or false", out.Type())
	}
	return b, nil
}

// programOf returns the compiled program of an expr node, compiling it now
// for a tree built in Go and never checked.
func (c *Condition) programOf() (*exprProgram, error) {
	if c.prog != nil {
		return c.prog, nil
	}
	return compileExpr(c.Expr)
}
