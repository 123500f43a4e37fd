package api

// ISMSDeps are the services the isms operations need; with them unset the
// module declares no operations.
type ISMSDeps struct{}

// declareISMS declares the isms module's operations.
func (s *Server) declareISMS() {}
