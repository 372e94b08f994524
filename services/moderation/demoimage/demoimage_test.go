package demoimage

import (
	"image"
	"testing"
)

func TestDeterministic(t *testing.T) {
	for i := -1; i <= Count; i++ {
		a, b := Image(i).(*image.RGBA), Image(i).(*image.RGBA)
		if string(a.Pix) != string(b.Pix) || a.Bounds().Dx() != Size {
			t.Fatalf("image %d differs between calls", i)
		}
	}
	if string(Image(Count).(*image.RGBA).Pix) != string(Image(0).(*image.RGBA).Pix) {
		t.Error("Image does not wrap")
	}
}
