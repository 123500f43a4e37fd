// Package dataprotection finds personal and payment data in text and
// redacts it. It is a plain library with no knowledge of HTTP or SQL: the
// command line, the server and the agent share it.
//
// The scanner is linear-time: one pass tokenizes the input, a digit and
// keyword prefilter picks candidates, and checksum or context validators
// confirm them. No regular expression runs on the hot path.
package dataprotection

// Entity names a kind of sensitive data. Names follow Microsoft Presidio's
// where Presidio has one.
type Entity string

// The entities the scanner knows.
const (
	CreditCard     Entity = "CREDIT_CARD"
	CardCVV        Entity = "CARD_CVV"
	CardExpiry     Entity = "CARD_EXPIRY"
	IBANCode       Entity = "IBAN_CODE"
	ESNIF          Entity = "ES_NIF"
	ESNIE          Entity = "ES_NIE"
	ESCIF          Entity = "ES_CIF"
	ESNSS          Entity = "ES_NSS"
	ESPassport     Entity = "ES_PASSPORT"
	ESPostalCode   Entity = "ES_POSTAL_CODE"
	ESLicensePlate Entity = "ES_LICENSE_PLATE"
	PhoneNumber    Entity = "PHONE_NUMBER"
	EmailAddress   Entity = "EMAIL_ADDRESS"
	IPAddress      Entity = "IP_ADDRESS"
	URL            Entity = "URL"
	DateOfBirth    Entity = "DATE_OF_BIRTH"
	USSSN          Entity = "US_SSN"
	UKNINO         Entity = "UK_NINO"
	Person         Entity = "PERSON"
	Location       Entity = "LOCATION"
	// DateTime is any date, time or year. It is not personal data by itself
	// and is off unless asked for (Presidio reports it; see DefaultEntities).
	DateTime Entity = "DATE_TIME"
)

// AllEntities lists every entity the scanner can report, in a stable order.
func AllEntities() []Entity {
	return []Entity{CreditCard, CardCVV, CardExpiry, IBANCode, ESNIF, ESNIE, ESCIF, ESNSS,
		ESPassport, ESPostalCode, ESLicensePlate, PhoneNumber, EmailAddress, IPAddress, URL,
		DateOfBirth, USSSN, UKNINO, Person, Location, DateTime}
}

// DefaultEntities are the entities reported when Options.Entities is
// empty: all but DATE_TIME.
func DefaultEntities() []Entity {
	all := AllEntities()
	return all[:len(all)-1]
}

// ParseEntity returns the entity with the given name.
func ParseEntity(name string) (Entity, bool) {
	for _, e := range AllEntities() {
		if string(e) == name {
			return e, true
		}
	}
	return "", false
}

// Finding is one piece of sensitive data: Start and End are byte offsets
// into the scanned input (End exclusive). Validator names what confirmed
// it ("luhn", "mod97", "context", "fail-closed", …).
type Finding struct {
	Entity    Entity  `json:"entity"`
	Start     int     `json:"start"`
	End       int     `json:"end"`
	Score     float64 `json:"score"`
	Validator string  `json:"validator"`
}
