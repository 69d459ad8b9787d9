package dataplane

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/slipway-dev/slipway/descriptor"
)

// Check runs one HTTP or TCP check of p against the instance at host (an address without port);
// exec checks are the driver's. A nil probe passes.
func Check(ctx context.Context, p *descriptor.Probe, host string) Probe {
	now := time.Now().UTC()
	if p == nil {
		return Probe{Ready: true, Message: "no readiness check: the process runs", At: now}
	}
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTP != nil:
		url := "http://" + net.JoinHostPort(host, strconv.Itoa(p.HTTP.Port)) + p.HTTP.Path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return Probe{Message: err.Error(), At: now}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return Probe{Message: "GET " + p.HTTP.Path + ": " + err.Error(), At: now}
		}
		resp.Body.Close()
		ok := resp.StatusCode >= 200 && resp.StatusCode < 400
		return Probe{Ready: ok, Message: fmt.Sprintf("GET %s: %d", p.HTTP.Path, resp.StatusCode), At: now}
	case p.TCP != nil:
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(p.TCP.Port)))
		if err != nil {
			return Probe{Message: err.Error(), At: now}
		}
		c.Close()
		return Probe{Ready: true, Message: fmt.Sprintf("tcp %d: connected", p.TCP.Port), At: now}
	}
	return Probe{Message: "no HTTP or TCP check to run", At: now}
}
