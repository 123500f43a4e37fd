package store

// FleetBeatAsync is fleetBeatAsync for the external tests.
const FleetBeatAsync = fleetBeatAsync
