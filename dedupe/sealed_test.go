package dedupe

import (
	"math/rand/v2"
	"testing"
)

func randomKeys(r *rand.Rand, n int) []Key {
	keys := make([]Key, n)
	for i := range keys {
		for j := 0; j < KeySize; j += 8 {
			v := r.Uint64()
			for b := range 8 {
				keys[i][j+b] = byte(v >> (8 * b))
			}
		}
	}
	return keys
}

func TestSeal(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 100, 5000} {
		t.Run("", func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 1))
			keys := randomKeys(r, 2*n)
			in, out := keys[:n], keys[n:]
			s := seal(3, n, chunkKeys([][]byte{keyBytes(in)}))
			if got := len(s.keys); got != n {
				t.Fatalf("len(seal(%d keys).keys) = %d, want %d", n, got, n)
			}
			for _, k := range in {
				if !s.contains(k) {
					t.Fatalf("seal(%d keys).contains(%x) = false for a sealed key, want true", n, k)
				}
			}
			for _, k := range out {
				if s.contains(k) {
					t.Fatalf("seal(%d keys).contains(%x) = true for a key never sealed, want false", n, k)
				}
			}
		})
	}
}

func TestDirBitsFor(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 0}, {7, 0}, {8, 1}, {9, 2}, {16, 2}, {17, 3}, {1 << 20, 18}, {1<<20 + 1, 19},
	}
	for _, tt := range tests {
		if got := dirBitsFor(tt.n); got != tt.want {
			t.Errorf("dirBitsFor(%d) = %d, want %d", tt.n, got, tt.want)
		}
		if groups := 1 << dirBitsFor(tt.n); tt.n >= 8 && (groups*4 < tt.n || groups*2 > tt.n) {
			t.Errorf("dirBitsFor(%d) gives %d groups, want between n/4 and n/2", tt.n, groups)
		}
	}
}

func keyBytes(keys []Key) []byte {
	b := make([]byte, 0, len(keys)*KeySize)
	for _, k := range keys {
		b = append(b, k[:]...)
	}
	return b
}
