package imagehash

import (
	"bytes"
	"image/jpeg"
	"testing"
)

func BenchmarkZZDecode(b *testing.B) {
	files := benchFiles(b)[:2]
	b.Run("full", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			jpeg.Decode(bytes.NewReader(files[i%2]))
		}
	})
	b.Run("reduced", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			DecodeReduced(files[i%2], Limits{})
		}
	})
}
