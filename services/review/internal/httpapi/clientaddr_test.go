package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseProxies("10.0.0.0/8, 192.0.2.7,2001:db8:ff::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured: header ignored", "10.1.2.3:5000", []string{"203.0.113.1"}, nil, "10.1.2.3"},
		{"untrusted peer: header ignored", "198.51.100.4:5000", []string{"203.0.113.1"}, trusted, "198.51.100.4"},
		{"trusted peer without header", "10.1.2.3:5000", nil, trusted, "10.1.2.3"},
		{"trusted peer", "10.1.2.3:5000", []string{"203.0.113.1"}, trusted, "203.0.113.1"},
		{"spoofed entries left of the proxy's", "10.1.2.3:5000", []string{"1.2.3.4, 5.6.7.8, 203.0.113.1"}, trusted, "203.0.113.1"},
		{"chain of trusted proxies", "10.1.2.3:5000", []string{"6.6.6.6, 203.0.113.1, 192.0.2.7", "10.9.9.9"}, trusted, "203.0.113.1"},
		{"all trusted: left-most", "10.1.2.3:5000", []string{"10.0.0.5, 10.0.0.6"}, trusted, "10.0.0.5"},
		{"malformed entry stops at the proxy that forwarded it", "10.1.2.3:5000", []string{"203.0.113.1, garbage, 10.0.0.6"}, trusted, "10.0.0.6"},
		{"entry with a port", "10.1.2.3:5000", []string{"203.0.113.1:4711"}, trusted, "203.0.113.1"},
		{"IPv6 client and proxy", "[2001:db8:ff::1]:5000", []string{"2001:db8:1::9"}, trusted, "2001:db8:1::9"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:5000", []string{"203.0.113.1"}, trusted, "203.0.113.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddr(r, tc.trusted); got != tc.want {
				t.Fatalf("clientAddr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseProxies(" 10.0.0.1/8 ,,::1")
	if err != nil || len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "::1/128" {
		t.Fatalf("ParseProxies = %v, %v", got, err)
	}
	if got, err := ParseProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("ParseProxies(\"\") = %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,nope"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
}
