package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors of Fetch.
var (
	// ErrRefused: the URL's scheme, host or resolved address is not
	// allowed, or a redirect led somewhere that is not.
	ErrRefused = errors.New("media url refused")
	// ErrTooLarge: the body is longer than the byte limit.
	ErrTooLarge = errors.New("media over byte limit")
	// ErrUnavailable: the server has no image for us (4xx status, too many
	// redirects). Retrying will not help.
	ErrUnavailable = errors.New("media unavailable")
)

// Options configure a Fetcher. The zero value gives the defaults.
type Options struct {
	Timeout      time.Duration // whole request, body included (default 5 s)
	MaxBytes     int64         // body limit (default 10 MiB)
	MaxRedirects int           // default 3; negative refuses every redirect
	// AllowHosts, if not empty, lists the only hosts fetched: an entry
	// "cdn.example" allows that host, ".example" every subdomain of it.
	AllowHosts []string
	// AllowLoopback and AllowPrivate lift the SSRF refusal of loopback and
	// of private/link-local addresses. Tests and on-premises deployments
	// only; never on a worker that fetches URLs from the public.
	AllowLoopback bool
	AllowPrivate  bool
	// UserAgent is sent with every request.
	UserAgent string
}

// Fetcher downloads media. It is safe for concurrent use.
type Fetcher struct {
	opt    Options
	client *http.Client
}

// NewFetcher returns a Fetcher with its own HTTP client and dialer.
func NewFetcher(opt Options) *Fetcher {
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 10 << 20
	}
	if opt.MaxRedirects == 0 {
		opt.MaxRedirects = 3
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "vigil-ingest/1 (content moderation)"
	}
	f := &Fetcher{opt: opt}
	dialer := &net.Dialer{Timeout: opt.Timeout, KeepAlive: 30 * time.Second, Control: f.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial where control cannot check
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        60 * time.Second,
		TLSHandshakeTimeout:    opt.Timeout,
		ResponseHeaderTimeout:  opt.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   opt.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opt.MaxRedirects {
				return fmt.Errorf("more than %d redirects: %w", max(opt.MaxRedirects, 0), ErrUnavailable)
			}
			return f.checkURL(req.URL)
		},
	}
	return f
}

// control runs after DNS resolution, on the address about to be dialled.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", address, ErrRefused)
	}
	return f.checkAddr(ap.Addr())
}

// CheckAddr reports whether ip may be fetched from under f's options.
func (f *Fetcher) checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		if f.opt.AllowLoopback {
			return nil
		}
		return fmt.Errorf("address %s is loopback: %w", ip, ErrRefused)
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), cgnat.Contains(ip):
		if f.opt.AllowPrivate {
			return nil
		}
		return fmt.Errorf("address %s is private or link-local: %w", ip, ErrRefused)
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), !ip.IsValid():
		return fmt.Errorf("address %s is not unicast: %w", ip, ErrRefused)
	}
	return nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: %w", u.Scheme, ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("url carries credentials: %w", ErrRefused)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return fmt.Errorf("url has no host: %w", ErrRefused)
	}
	if len(f.opt.AllowHosts) > 0 && !hostAllowed(host, f.opt.AllowHosts) {
		return fmt.Errorf("host %q is not on the allow-list: %w", host, ErrRefused)
	}
	// A literal address is checked here too, so the error names it even
	// when no connection is attempted.
	if ip, err := netip.ParseAddr(host); err == nil {
		return f.checkAddr(ip)
	}
	return nil
}

func hostAllowed(host string, allow []string) bool {
	for _, a := range allow {
		a = strings.ToLower(a)
		if strings.HasPrefix(a, ".") {
			if strings.HasSuffix(host, a) || host == a[1:] {
				return true
			}
		} else if host == a {
			return true
		}
	}
	return false
}

// Result is a fetched body.
type Result struct {
	Bytes       []byte
	ContentType string
	FinalURL    string
}

// Fetch downloads rawURL. See the package documentation for its errors.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, fmt.Errorf("parsing media url: %w: %w", ErrRefused, err)
	}
	if err := f.checkURL(u); err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("building request: %w: %w", ErrRefused, err)
	}
	req.Header.Set("User-Agent", f.opt.UserAgent)
	req.Header.Set("Accept", "image/*")
	res, err := f.client.Do(req)
	if err != nil {
		// CheckRedirect and the dial guard wrap our sentinels; keep them.
		return Result{}, fmt.Errorf("fetching media: %w", err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusRequestTimeout:
		return Result{}, &StatusError{Code: res.StatusCode}
	case res.StatusCode != http.StatusOK:
		return Result{}, fmt.Errorf("media server answered %d: %w", res.StatusCode, ErrUnavailable)
	}
	if res.ContentLength > f.opt.MaxBytes {
		return Result{}, fmt.Errorf("media is %d bytes, limit %d: %w", res.ContentLength, f.opt.MaxBytes, ErrTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, f.opt.MaxBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("reading media body: %w", err)
	}
	if int64(len(b)) > f.opt.MaxBytes {
		return Result{}, fmt.Errorf("media is over %d bytes: %w", f.opt.MaxBytes, ErrTooLarge)
	}
	return Result{Bytes: b, ContentType: res.Header.Get("Content-Type"), FinalURL: res.Request.URL.String()}, nil
}

// StatusError is a server-side HTTP failure worth retrying (5xx, 408, 429).
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("media server answered %d", e.Code) }

// Transient reports whether err from Fetch may go away on retry: it is
// none of ErrRefused, ErrTooLarge, ErrUnavailable.
func Transient(err error) bool {
	return err != nil && !errors.Is(err, ErrRefused) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnavailable)
}
