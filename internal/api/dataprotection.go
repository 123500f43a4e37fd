package api

// DataProtectionDeps are the services the dataprotection operations need; with them unset the
// module declares no operations.
type DataProtectionDeps struct{}

// declareDataProtection declares the dataprotection module's operations.
func (s *Server) declareDataProtection() {}
