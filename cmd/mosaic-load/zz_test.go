package main

import (
	"fmt"
	"testing"
)

func TestZZ(t *testing.T) {
	g := testGenerator(t, 9)
	for range 4 {
		b, ev := g.AppendEvent(nil, "2024-06-01T12:00:00.000Z", "")
		fmt.Println(ev.Kind, len(b))
		fmt.Println(string(b))
	}
}
