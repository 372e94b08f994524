package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation/evidence"
)

// Evidence prepares items' evidence packages (evidence.Exporter).
type Evidence interface {
	// Open reads the package of an item and audits its export by actor;
	// nothing is written yet. Returns ErrNotFound for an unknown item.
	Open(ctx context.Context, itemID int64, actor string) (*evidence.Package, error)
}

// HeaderManifestSHA256 carries the SHA-256 of an evidence package's
// manifest.json, as its export's audit event records it.
const HeaderManifestSHA256 = "X-Vigil-Manifest-SHA256"

// evidence streams an item's evidence package as a zip. The export is
// audited before the first byte is sent. Errors found before then are
// answered as JSON; after that the response is aborted (the connection is
// cut), and the archive received so far lacks its central directory, so
// no zip reader takes it for a complete one.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	if err := refuseHead(w, r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if s.Evidence == nil {
		return errors.New("evidence packages are not configured")
	}
	pkg, err := s.Evidence.Open(r.Context(), id, a.User.Username)
	if err != nil {
		return err
	}
	attachment(w, "application/zip", pkg.Filename())
	w.Header().Set(HeaderManifestSHA256, pkg.ManifestSHA256)
	w.WriteHeader(http.StatusOK)
	dw := &deadlineWriter{w: w, rc: http.NewResponseController(w)}
	if err := pkg.Write(r.Context(), dw); err != nil {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the client went away
		}
		s.Log.Log(r.Context(), level, "evidence package stopped midway; aborting the response", "item", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// deadlineWriter moves the connection's write deadline exportIdle ahead
// of every write: the server's write timeout would cut a large package,
// and only a client that stops reading should be cut.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	// Deadlines are wall-clock time, whatever s.Clock says.
	_ = d.rc.SetWriteDeadline(time.Now().Add(exportIdle))
	return d.w.Write(p)
}
