package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// hashCommand prints perceptual hashes of image files, one line per file,
// in the format banks use, so operators can hash their own images and
// compare them with bank entries or other tools (PDQ hex as Meta prints it).
func hashCommand() Command {
	return Command{
		Name:    "hash",
		Summary: "print perceptual hashes of image files (PDQ: hex,quality,file; others: hex,file)",
		Run: func(ctx context.Context, env Env, args []string) error {
			fs := newFlags(env, "hash", "Usage: vigilctl hash [--algo pdq|phash|dhash|ahash] FILE…\n\nPrints <hex>,<quality>,<file> for PDQ and <hex>,<file> for phash, dhash and ahash.\n"+
				"The image is decoded with the same limits as ingest, and turned upright per its EXIF orientation.")
			algo := fs.String("algo", imagehash.TypePDQ, "hash type: pdq, phash, dhash or ahash")
			if err := parse(fs, env, args); err != nil {
				return err
			}
			if imagehash.Bits(*algo) == 0 {
				return fmt.Errorf("hash: unknown --algo %q (want pdq, phash, dhash or ahash)", *algo)
			}
			files := fs.Args()
			if len(files) == 0 {
				return fmt.Errorf("hash: no files given")
			}
			h := imagehash.NewHasher()
			failed := false
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return err
				}
				line, err := hashFile(h, *algo, f)
				if err != nil {
					fmt.Fprintf(env.Stderr, "vigilctl hash: %s: %v\n", f, err)
					failed = true
					continue
				}
				fmt.Fprintln(env.Stdout, line)
			}
			if failed {
				return ErrFailed
			}
			return nil
		},
	}
}

func hashFile(h *imagehash.Hasher, algo, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// A directory opens, and its read error would be reported as an
	// undecodable image.
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "", errors.New("is a directory, not an image file")
	}
	d, err := imagehash.Decode(f, imagehash.Limits{})
	if err != nil {
		return "", err
	}
	if algo == imagehash.TypePDQ {
		r := h.PDQDecoded(d)
		return fmt.Sprintf("%s,%d,%s", r.Hash, r.Quality, path), nil
	}
	v, err := imagehash.Hash64Of(algo, d.Upright())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s,%s", v, path), nil
}
