package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strconv"
	"strings"

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
			fs := newFlags(env, "hash", "Usage: vigilctl hash [--algo pdq|phash|dhash|ahash] FILE…|-\n\nPrints <hex>,<quality>,<file> for PDQ and <hex>,<file> for phash, dhash and ahash,\n"+
				"as CSV (a file name holding a comma, a quote or a line break is quoted); - reads standard input.\n"+
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
			out := csv.NewWriter(env.Stdout)
			failed := false
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return err
				}
				rec, err := hashFile(h, *algo, f, env.Stdin)
				if pe := (*iofs.PathError)(nil); errors.As(err, &pe) {
					err = pe.Err // the file is named once, first
				}
				if err != nil {
					fmt.Fprintf(env.Stderr, "vigilctl hash: %s: %v\n", f, err)
					failed = true
					continue
				}
				_ = out.Write(rec)
				out.Flush()
			}
			if err := out.Error(); err != nil {
				return fmt.Errorf("hash: writing: %w", err)
			}
			if failed {
				return ErrFailed
			}
			return nil
		},
	}
}

// hashFile hashes the image at path ("-": stdin) and returns its output
// record: hex, quality (PDQ only), path.
func hashFile(h *imagehash.Hasher, algo, path string, stdin io.Reader) ([]string, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		switch {
		case err != nil:
			return nil, err
		// A directory opens, and its read error would be reported as an
		// undecodable image.
		case st.IsDir():
			return nil, errors.New("is a directory, not an image file")
		case st.Mode().IsRegular() && st.Size() == 0:
			return nil, errors.New("empty file, not an image")
		}
		r = f
	}
	if r == nil {
		r = strings.NewReader("")
	}
	d, err := imagehash.Decode(r, imagehash.Limits{})
	if err != nil {
		return nil, err
	}
	if algo == imagehash.TypePDQ {
		res := h.PDQDecoded(d)
		return []string{res.Hash.String(), strconv.Itoa(res.Quality), path}, nil
	}
	v, err := imagehash.Hash64Of(algo, d.Upright())
	if err != nil {
		return nil, err
	}
	return []string{v.String(), path}, nil
}
