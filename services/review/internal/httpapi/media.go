package httpapi

import (
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/review/internal/blur"
)

// safeImageTypes are served inline; anything else is sent as an attachment.
var safeImageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// media serves an item's evidence. By default it is blurred and downscaled
// on the server, so the original pixels never reach a browser; view=original
// needs media:unblurred, and the view is audited before a byte is sent.
func (s *Server) media(w http.ResponseWriter, r *http.Request, a *auth) error {
	q := params(r, "view")
	view := q.oneOf("view", "blurred", "original")
	if q.err != nil {
		return q.err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	mediaID := r.PathValue("media_id")
	if mediaID == "" || len(mediaID) > 256 || !printable(mediaID) {
		return invalid("media_id must be 1 to 256 printable characters")
	}
	if view == "original" && !a.Can(moderation.PermMediaUnblurred) {
		return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "your role does not allow unblurred media"}
	}
	if view == "original" {
		if err := refuseHead(w, r); err != nil {
			return err
		}
	}
	blob, err := s.Reviews.Media(r.Context(), id, mediaID)
	if err != nil {
		return err
	}
	if blob.Bytes == nil {
		return &apiError{status: http.StatusGone, code: "purged", msg: "the evidence was purged by the retention policy"}
	}
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	if view != "original" {
		out, err := blur.JPEG(blob.Bytes, blur.Options{})
		ct := "image/jpeg"
		if err != nil {
			out, ct = blur.Placeholder(), "image/png"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(out)))
		h.Set("X-Vigil-Media-View", "blurred")
		_, _ = w.Write(out)
		return nil
	}
	if err := s.Reviews.RecordMediaView(r.Context(), a.User, id, mediaID, blob.SHA256); err != nil {
		return err
	}
	ct := blob.MIME
	if !safeImageTypes[ct] {
		ct = "application/octet-stream"
		h.Set("Content-Disposition", `attachment; filename="evidence-`+blob.SHA256+`"`)
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(blob.Bytes)))
	h.Set("X-Vigil-Media-View", "original")
	_, _ = w.Write(blob.Bytes)
	return nil
}

// refuseHead answers HEAD with 405 on an endpoint whose GET is audited
// (an evidence export, a view of original media): Go's mux serves HEAD
// with the GET handler, which would record an export or a view that sent
// nothing.
func refuseHead(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodHead {
		return nil
	}
	w.Header().Set("Allow", "GET")
	return &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
		msg: "HEAD is not served here: a GET is audited as an export or a view of the evidence; use GET"}
}

func printable(s string) bool {
	if !utf8.ValidString(s) { // ranging yields U+FFFD, which prints
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) || c == '/' {
			return false
		}
	}
	return true
}
