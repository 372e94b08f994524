package moderation

import (
	"fmt"
	"os"
)

// ReadReasonCodes reads the reason-code file at path (ParseReasonCodes),
// as vigil-review's and vigilctl's --reason-codes flags name it. Errors
// read "reading reason codes: path:line: message" and wrap ErrInvalid
// when the file's content is at fault.
func ReadReasonCodes(path string) (ReasonCodes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading reason codes: %w", err)
	}
	defer f.Close()
	codes, err := ParseReasonCodes(path, f)
	if err != nil {
		return nil, fmt.Errorf("reading reason codes: %w", err)
	}
	return codes, nil
}
