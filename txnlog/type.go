package txnlog

import (
	"fmt"
	"strconv"
)

// Type is a transaction's type: ZooKeeper's OpCode as the txn header (or a
// multi's sub-txn) records it.
type Type int32

// The transaction types a txn log holds (ZooDefs.OpCode).
const (
	TypeCloseSession    Type = -11
	TypeCreateSession   Type = -10
	TypeError           Type = -1
	TypeCreate          Type = 1
	TypeDelete          Type = 2
	TypeSetData         Type = 5
	TypeSetACL          Type = 7
	TypeCheck           Type = 13
	TypeMulti           Type = 14
	TypeCreate2         Type = 15
	TypeReconfig        Type = 16
	TypeCreateContainer Type = 19
	TypeDeleteContainer Type = 20
	TypeCreateTTL       Type = 21
)

// knownTypes lists every type this package decodes.
func knownTypes() []Type {
	return []Type{TypeCloseSession, TypeCreateSession, TypeError, TypeCreate, TypeDelete,
		TypeSetData, TypeSetACL, TypeCheck, TypeMulti, TypeCreate2, TypeReconfig,
		TypeCreateContainer, TypeDeleteContainer, TypeCreateTTL}
}

// String is ZooKeeper's own name of the type (Request.op2String, which
// TxnLogToolkit prints: "create2", "closeSession"), or the number for a
// type this package does not know.
func (t Type) String() string {
	switch t {
	case TypeCloseSession:
		return "closeSession"
	case TypeCreateSession:
		return "createSession"
	case TypeError:
		return "error"
	case TypeCreate:
		return "create"
	case TypeDelete:
		return "delete"
	case TypeSetData:
		return "setData"
	case TypeSetACL:
		return "setACL"
	case TypeCheck:
		return "check"
	case TypeMulti:
		return "multi"
	case TypeCreate2:
		return "create2"
	case TypeReconfig:
		return "reconfig"
	case TypeCreateContainer:
		return "createContainer"
	case TypeDeleteContainer:
		return "deleteContainer"
	case TypeCreateTTL:
		return "createTTL"
	}
	return strconv.Itoa(int(t))
}

// IsCreate tells whether t creates a znode (create, create2,
// createContainer, createTTL).
func (t Type) IsCreate() bool {
	switch t {
	case TypeCreate, TypeCreate2, TypeCreateContainer, TypeCreateTTL:
		return true
	}
	return false
}

// IsDelete tells whether t deletes a znode (delete, deleteContainer).
func (t Type) IsDelete() bool { return t == TypeDelete || t == TypeDeleteContainer }

// MarshalText encodes the type as its name (a number when unknown).
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a name written by MarshalText, or a number.
func (t *Type) UnmarshalText(b []byte) error {
	s := string(b)
	for _, k := range knownTypes() {
		if k.String() == s {
			*t = k
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return fmt.Errorf("txn type %q: not a type name or number", s)
	}
	*t = Type(n)
	return nil
}
