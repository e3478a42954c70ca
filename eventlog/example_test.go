package eventlog_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

func Example() {
	dir, err := os.MkdirTemp("", "eventlog-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := eventlog.Open(dir, eventlog.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	// Append returns once the records are on disk (fdatasync).
	first, err := l.Append(context.Background(), [][]byte{[]byte("signed up"), []byte("bought")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first:", first, "last:", l.LastSeq())

	// A consumer tails the log from its position: Wait, then Read a page.
	var pos uint64
	if err := l.Wait(context.Background(), pos); err != nil {
		log.Fatal(err)
	}
	recs, err := l.Read(pos, 100, 1<<20)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Printf("%d %s\n", r.Seq, r.Data)
	}
	// Output:
	// first: 1 last: 2
	// 1 signed up
	// 2 bought
}
