package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// DialFunc opens a TCP connection to a broker address.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Net says how to reach the brokers. The zero Dial dials them directly;
// tests set it to route every connection, bootstrap and advertised broker
// addresses alike, through a proxy they can cut to simulate an outage.
type Net struct {
	Brokers []string
	Dial    DialFunc
	Logger  *slog.Logger
}

// Client returns a kafka-go admin client with timeout per request, and a
// function that closes its connections (call it when done: a client with
// its own transport keeps them open otherwise).
func (n Net) Client(timeout time.Duration) (*kafkago.Client, func()) {
	if n.Dial == nil {
		// kafka-go's shared default transport pools connections itself.
		return &kafkago.Client{Addr: kafkago.TCP(n.Brokers...), Timeout: timeout}, func() {}
	}
	t := n.Transport()
	return &kafkago.Client{Addr: kafkago.TCP(n.Brokers...), Timeout: timeout, Transport: t}, t.CloseIdleConnections
}

// Transport returns a kafka-go transport (used by Writer and Client) that
// dials through n.Dial.
func (n Net) Transport() *kafkago.Transport {
	t := &kafkago.Transport{DialTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second, MetadataTTL: 10 * time.Second}
	if n.Dial != nil {
		t.Dial = n.Dial
	}
	return t
}

// Dialer returns a kafka-go dialer (used by Reader and ConsumerGroup) that
// dials through n.Dial.
func (n Net) Dialer() *kafkago.Dialer {
	d := &kafkago.Dialer{Timeout: 5 * time.Second, DualStack: true}
	if n.Dial != nil {
		d.DialFunc = n.Dial
	}
	return d
}

func (n Net) errorLogger(what string) kafkago.Logger {
	if n.Logger == nil {
		return nil
	}
	l := n.Logger
	return kafkago.LoggerFunc(func(msg string, args ...any) {
		l.Warn(what, "detail", fmt.Sprintf(msg, args...))
	})
}
