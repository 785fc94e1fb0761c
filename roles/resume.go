package roles

import "github.com/go-zookeeper/zk"

// CleanPredecessor removes the finished results, and their data, that an
// earlier client with the same id left behind, and returns how many it
// removed and the first free task number k of "<id>-<k>". RunClient does
// this itself; `zkctl submit` calls it before Submit.
func CleanPredecessor(conn *zk.Conn, id string) (removed, next int, err error) {
	return cleanPredecessor(conn, id)
}
