package eventlog_test

import (
	"testing"

	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/eventlog/logtest"
)

func TestContract(t *testing.T) {
	logtest.Run(t, func(t *testing.T) logtest.Log {
		l, err := eventlog.Open(t.TempDir(), eventlog.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}
