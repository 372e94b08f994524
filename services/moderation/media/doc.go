// Package media fetches the images of posts from the open internet without
// letting a post aim the worker at anything else.
//
// A Fetcher has a timeout, a byte limit and a redirect limit, an optional
// allow-list of hosts, and refuses by default every address that is not
// public unicast: loopback, private (RFC 1918, RFC 4193), link-local (cloud
// metadata endpoints live there), CGNAT, multicast and unspecified. The
// check runs on the address actually dialled, after DNS resolution and on
// every redirect hop, so DNS rebinding and redirects to internal hosts are
// refused too. Environment proxies are ignored: a proxy would dial on our
// behalf where the check cannot see.
//
// Errors wrap one of ErrRefused (the URL is not allowed), ErrTooLarge (the
// body is over the byte limit), ErrUnavailable (the server answered but
// has no image for us: 4xx, too many redirects) or are transient (timeouts,
// connection failures, 5xx), which Transient reports.
package media
