package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy is where a webhook may be sent (settings webhooks.allowed_hosts
// and webhooks.allow_loopback). It is checked when an admin sets a URL and
// again at every delivery: the URL against the allow-list, and the address
// the host resolves to at connection time, so a name that is allowed but
// points at an internal service (DNS rebinding) is still refused.
type Policy struct {
	AllowedHosts  []string
	AllowLoopback bool
}

// CheckURL says why raw may not be a webhook endpoint, or nil.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute https:// URL")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	host := strings.ToLower(u.Hostname())
	loopback := isLoopbackHost(host)
	switch {
	case loopback && !p.AllowLoopback:
		return errors.New("must not point at this machine (loopback is allowed only in development)")
	case loopback:
		if u.Scheme != "http" && u.Scheme != "https" {
			return errors.New("must be an http:// or https:// URL")
		}
		return nil
	case u.Scheme != "https":
		return errors.New("must be an https:// URL")
	case !p.hostAllowed(host):
		if len(p.AllowedHosts) == 0 {
			return fmt.Errorf("host %q is not allowed: no host is (setting webhooks.allowed_hosts is empty)", host)
		}
		return fmt.Errorf("host %q is not in the allowed hosts (setting webhooks.allowed_hosts)", host)
	}
	return nil
}

func (p Policy) hostAllowed(host string) bool {
	for _, h := range p.AllowedHosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// cgnat is 100.64.0.0/10 (shared address space, RFC 6598), not covered by
// netip's IsPrivate.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// addrAllowed says why a connection to a may not be made, or nil: never to
// private, link-local, unspecified, multicast or shared ranges; to
// loopback only when the policy allows it.
func (p Policy) addrAllowed(a netip.Addr) error {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		if p.AllowLoopback {
			return nil
		}
		return fmt.Errorf("address %s is loopback", a)
	case a.IsPrivate(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(),
		a.IsMulticast(), a.IsUnspecified(), cgnat.Contains(a),
		a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("address %s is internal", a)
	}
	return nil
}

// ErrRefusedAddress marks a delivery refused because the host resolved to
// an address the policy forbids.
var ErrRefusedAddress = errors.New("refused address")

// Client returns the HTTP client of deliveries: no proxy, no redirects
// followed (a 3xx is a failed attempt), every connection's address checked
// against the policy after resolution, and timeout for the whole attempt.
func (p Policy) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			if err := p.addrAllowed(ap.Addr()); err != nil {
				return fmt.Errorf("%w: %v", ErrRefusedAddress, err)
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           func(ctx context.Context, n, a string) (net.Conn, error) { return dialer.DialContext(ctx, n, a) },
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		DisableKeepAlives:     true,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
