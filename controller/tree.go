package controller

import (
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/go-zookeeper/zk"
)

// Tree draws the znodes under root like zk-shell's `tree`.
func Tree(w io.Writer, conn *zk.Conn, root string) error {
	if root == "" {
		root = "/"
	}
	if ok, _, err := conn.Exists(root); err != nil {
		return fmt.Errorf("tree %s: %w", root, err)
	} else if !ok {
		return fmt.Errorf("tree %s: no such znode", root)
	}
	fmt.Fprintln(w, ".")
	return drawChildren(w, conn, root, "")
}

func drawChildren(w io.Writer, conn *zk.Conn, p, indent string) error {
	children, _, err := conn.Children(p)
	if err == zk.ErrNoNode {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tree %s: %w", p, err)
	}
	sort.Strings(children)
	for i, name := range children {
		branch, next := "├── ", "│   "
		if i == len(children)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", indent, branch, name)
		if err := drawChildren(w, conn, path.Join(p, name), indent+next); err != nil {
			return err
		}
	}
	return nil
}
