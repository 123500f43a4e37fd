//go:build !windows

package daemon

import "errors"

var errNotWindows = errors.New("windows services can only be registered on Windows")

func registerService(*WindowsService) error { return errNotWindows }
func deleteService(string) error            { return errNotWindows }
