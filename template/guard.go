package template

import (
	"fmt"
	"slices"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/hookd/hookd"
)

// maxRangeLiteral is the largest integer literal a range may count to.
const maxRangeLiteral = 10000

// guard checks the parse trees of t and inserts the clock checks described
// in the package documentation: a tick action at the start of every range
// body and of every template. It returns an EINVALID *hookd.Error for a
// range over a large integer literal, a call of an undefined template or a
// recursive template.
func guard(t *texttemplate.Template) error {
	g := &guardian{calls: map[string][]*parse.TemplateNode{}}
	trees := map[string]*parse.Tree{}
	for _, tpl := range t.Templates() {
		if tpl.Tree == nil || tpl.Tree.Root == nil {
			continue
		}
		trees[tpl.Name()] = tpl.Tree
		g.tree, g.name = tpl.Tree, tpl.Name()
		g.walk(tpl.Tree.Root)
		if g.err != nil {
			return g.err
		}
	}
	if err := g.checkCalls(trees); err != nil {
		return err
	}
	for _, r := range g.ranges {
		r.node.List.Nodes = slices.Insert(r.node.List.Nodes, 0, tickNode(r.tree, r.node.Position(), r.node.Line))
	}
	for _, tr := range trees {
		tr.Root.Nodes = slices.Insert(tr.Root.Nodes, 0, tickNode(tr, tr.Root.Position(), 1))
	}
	return nil
}

type guardian struct {
	tree   *parse.Tree
	name   string
	ranges []rangeRef
	calls  map[string][]*parse.TemplateNode // template name → templates it calls
	err    error
}

type rangeRef struct {
	tree *parse.Tree
	node *parse.RangeNode
}

// walk visits every node of a list, recording ranges and template calls.
func (g *guardian) walk(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			g.walk(c)
		}
	case *parse.IfNode:
		g.walkBranch(&n.BranchNode)
	case *parse.WithNode:
		g.walkBranch(&n.BranchNode)
	case *parse.RangeNode:
		g.checkRange(n)
		g.ranges = append(g.ranges, rangeRef{g.tree, n})
		g.walkBranch(&n.BranchNode)
	case *parse.TemplateNode:
		g.calls[g.name] = append(g.calls[g.name], n)
	}
}

func (g *guardian) walkBranch(b *parse.BranchNode) {
	g.walk(b.List)
	if b.ElseList != nil {
		g.walk(b.ElseList)
	}
}

// checkRange rejects {{range N}} for a literal N above maxRangeLiteral.
func (g *guardian) checkRange(r *parse.RangeNode) {
	if g.err != nil || len(r.Pipe.Cmds) != 1 || len(r.Pipe.Cmds[0].Args) != 1 {
		return
	}
	num, ok := r.Pipe.Cmds[0].Args[0].(*parse.NumberNode)
	if !ok || !num.IsInt || num.Int64 <= maxRangeLiteral {
		return
	}
	g.err = nodeError(g.tree, num, fmt.Sprintf("range over %s is too long; at most %d iterations", num.Text, maxRangeLiteral))
}

// checkCalls rejects calls of undefined templates and recursion.
func (g *guardian) checkCalls(trees map[string]*parse.Tree) error {
	names := make([]string, 0, len(g.calls))
	for name := range g.calls {
		names = append(names, name)
	}
	slices.Sort(names) // report the same error every time
	for _, name := range names {
		for _, call := range g.calls[name] {
			if trees[call.Name] == nil {
				return nodeError(trees[name], call, fmt.Sprintf("template %q is not defined", call.Name))
			}
		}
	}
	state := map[string]int{} // 1: on the current path, 2: done
	for _, name := range names {
		if err := g.visit(name, trees, state); err != nil {
			return err
		}
	}
	return nil
}

// visit is a depth-first search for a cycle of template calls.
func (g *guardian) visit(name string, trees map[string]*parse.Tree, state map[string]int) error {
	state[name] = 1
	for _, call := range g.calls[name] {
		switch state[call.Name] {
		case 1:
			return nodeError(trees[name], call, fmt.Sprintf("template %q is called recursively; recursive templates are not allowed", call.Name))
		case 0:
			if err := g.visit(call.Name, trees, state); err != nil {
				return err
			}
		}
	}
	state[name] = 2
	return nil
}

// tickNode returns the action {{_tick}} at pos. Its output is empty.
func tickNode(tr *parse.Tree, pos parse.Pos, line int) parse.Node {
	id := parse.NewIdentifier(tickName).SetTree(tr).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Line: line, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Line: line, Pipe: pipe}
}

// nodeError returns an EINVALID error pointing at node n of tr.
func nodeError(tr *parse.Tree, n parse.Node, msg string) error {
	loc, _ := tr.ErrorContext(n)
	line, col := 0, 0
	fmt.Sscanf(loc[len(tr.ParseName)+1:], "%d:%d", &line, &col)
	return hookd.Errorf(hookd.EINVALID, "template: line %d, col %d: %s", line, col+1, msg)
}
