package catalog

import "errors"

// ErrNotFound is returned (wrapped) when a catalogue, requirement or mapping
// does not exist.
var ErrNotFound = errors.New("not found")
