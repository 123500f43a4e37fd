package dataprotection

import "testing"

// TestPlacesAndAddresses covers the address blocks, the place cues and
// the person rules around them, in sentences written for these tests.
func TestPlacesAndAddresses(t *testing.T) {
	s := newTestScanner(t, Options{Lang: "en", Entities: []Entity{Person, Location, ESPostalCode, PhoneNumber}})
	tests := []struct{ name, text, want string }{
		{"number street number", "Send it to 4711 Rautatienkatu 12 please",
			"LOCATION[4711 Rautatienkatu 12]"},
		{"envelope block", "Olli Rantala\n\n5120 Hämeenkatu 7\n Apt. 12\n TAMPERE\n\n Finland 33100\n\nThanks",
			"PERSON[Olli Rantala] LOCATION[5120 Hämeenkatu 7\n Apt. 12\n TAMPERE\n\n Finland 33100]"},
		{"address cue", "She lives at 12 Orchard Lane, Bristol, and works nearby.",
			"LOCATION[12 Orchard Lane, Bristol]"},
		{"addressee after cue", "Shipping address: Anna Berg\n  77 Kungsgatan 3\n  Uppsala",
			"PERSON[Anna Berg] LOCATION[77 Kungsgatan 3\n  Uppsala]"},
		{"corner of", "Meet me at the corner of 5 Elm Street and Oak Avenue.",
			"LOCATION[the corner of 5 Elm Street and Oak Avenue]"},
		{"military box", "Ship to PSC 1234, Box 5678\nAPO AE 09876 today",
			"LOCATION[PSC 1234, Box 5678\nAPO AE 09876]"},
		{"po box", "Write to P.O. Box 881 in Leeds.", "LOCATION[P.O. Box 881] LOCATION[Leeds]"},
		{"place cue", "Last year we flew to Ouagadougou for a week.", "LOCATION[Ouagadougou]"},
		{"place cue caps", "He grew up in NORDHAUSEN, then left.", "LOCATION[NORDHAUSEN]"},
		{"place cue multiword", "I'm originally from Villanueva de la Serena.", "LOCATION[Villanueva de la Serena]"},
		{"where label", "When: tomorrow\nWhere: Kirkwall Golf Club.", "LOCATION[Kirkwall]"},
		{"title sentence ends block", "The shop is at 9 Mill Road 3. It opens at nine.", "LOCATION[9 Mill Road 3]"},
		{"title is no address", "Top 5 Reasons Of The 90s", ""},
		{"postal code keeps its entity", "Mi dirección: Calle Mayor 7, 28013 Madrid",
			"LOCATION[Calle Mayor 7] ES_POSTAL_CODE[28013] LOCATION[Madrid]"},
		{"name before verb", "Okonkwo Adebayo will be speaking at noon.", "PERSON[Okonkwo Adebayo]"},
		{"name with initial", "A letter from Ilsabet K. Vorontsova arrived.", "PERSON[Ilsabet K. Vorontsova]"},
		{"name label", "Name: Quillon Ashdown\nRole: tester", "PERSON[Quillon Ashdown]"},
		{"sentence start without cue", "Blue Lagoon tours are sold out.", ""},
		{"greeting", "Hi Oluwaseun, your order shipped.", "PERSON[Oluwaseun]"},
		{"call me", "Sometimes people call me Zdravko", "PERSON[Zdravko]"},
		{"directed by", "a film directed by Ysolde Krantz and friends", "PERSON[Ysolde Krantz]"},
		{"says", "\"It works,\" says Brannagh.", "PERSON[Brannagh]"},
		{"is from", "Teodozja is from Acme", "PERSON[Teodozja]"},
		{"name sequence", "The team: Aurelio, Benedetta, Casimir and Dorotea.", "PERSON[Aurelio] PERSON[Benedetta] PERSON[Casimir] PERSON[Dorotea]"},
		{"three surnames are a firm", "He works at Clarke, Hobbs and Lyle now.", ""},
		{"dialogue labels", "Tarquin: hi\nOdalys: hello\nMerewyn: hey there", "PERSON[Tarquin] PERSON[Odalys] PERSON[Merewyn]"},
		{"form labels are not names", "Name: x\nPhone: y\nAddress: z", ""},
		{"phone label after", "Numbers\n416 60 039 office\n082 490 1693-Fax", "PHONE_NUMBER[416 60 039] PHONE_NUMBER[082 490 1693]"},
		{"no phone label", "Numbers\n416 60 039 apples", ""},
		{"street suffix is no person", "They met on Greystone Turnpike yesterday.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(tt.text, s.Scan([]byte(tt.text))); got != tt.want {
				t.Errorf("Scan(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
