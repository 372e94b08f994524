package demoimage

import (
	"image"
	"image/color"
	"math"
)

// Count is the number of distinct demo pictures. Image(i) for i outside
// [0, Count) wraps around.
const Count = 8

// Banked reports whether picture i is one of those whose hashes are in
// rules/banks/demo.csv (the first five): the firehose can post the others
// as look-alike innocent pictures that must not match.
func Banked(i int) bool { return wrap(i) < 5 }

// Size is the side of every demo picture in pixels.
const Size = 320

func wrap(i int) int { return ((i % Count) + Count) % Count }

// rng is a tiny deterministic generator (SplitMix64), so the pictures do not
// depend on math/rand's algorithm across Go versions.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// Image returns demo picture i: a coloured gradient with a few discs and
// bars placed by a seeded generator. Busy enough for a PDQ quality of 100,
// different enough from each other to be far apart in every hash.
func Image(i int) image.Image {
	i = wrap(i)
	r := &rng{s: uint64(i)*7919 + 17}
	img := image.NewRGBA(image.Rect(0, 0, Size, Size))
	c1 := [3]int{r.intn(256), r.intn(256), r.intn(256)}
	c2 := [3]int{r.intn(256), r.intn(256), r.intn(256)}
	angle := float64(r.intn(360)) * math.Pi / 180
	dx, dy := math.Cos(angle), math.Sin(angle)
	freq := 3 + float64(r.intn(6)) // stripes keep the PDQ quality high
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			t := (float64(x)*dx + float64(y)*dy) / (Size * math.Sqrt2)
			t = 0.5 + 0.5*math.Sin(2*math.Pi*freq*t)
			var px [3]uint8
			for k := range px {
				px[k] = uint8(float64(c1[k])*(1-t) + float64(c2[k])*t)
			}
			img.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
		}
	}
	shapes := 10 + r.intn(6)
	for s := 0; s < shapes; s++ {
		col := color.RGBA{uint8(r.intn(256)), uint8(r.intn(256)), uint8(r.intn(256)), 255}
		cx, cy := r.intn(Size), r.intn(Size)
		if r.intn(2) == 0 {
			rad := 20 + r.intn(60)
			for y := max(0, cy-rad); y < min(Size, cy+rad); y++ {
				for x := max(0, cx-rad); x < min(Size, cx+rad); x++ {
					if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
						img.SetRGBA(x, y, col)
					}
				}
			}
		} else {
			w, h := 20+r.intn(140), 10+r.intn(50)
			if r.intn(2) == 0 {
				w, h = h, w
			}
			for y := max(0, cy-h/2); y < min(Size, cy+h/2); y++ {
				for x := max(0, cx-w/2); x < min(Size, cx+w/2); x++ {
					img.SetRGBA(x, y, col)
				}
			}
		}
	}
	return img
}
