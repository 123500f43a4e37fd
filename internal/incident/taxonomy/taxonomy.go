// Package taxonomy holds the ENISA Reference Incident Classification
// Taxonomy (RSIT, derived from eCSIRT.net mkVI) used to categorise
// incidents.
package taxonomy

// Type is one incident type inside a class.
type Type struct {
	ID          string `json:"id,omitempty"` // machine-readable value, e.g. "phishing"
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// Class is a top-level incident class.
type Class struct {
	ID    string `json:"id,omitempty"` // e.g. "fraud"
	Name  string `json:"name,omitempty"`
	Types []Type `json:"types,omitempty"`
}

// Classes returns the taxonomy. Each call returns a fresh copy.
func Classes() []Class {
	return []Class{
		{"abusive-content", "Abusive Content", []Type{
			{"spam", "Spam", "Unsolicited bulk e-mail."},
			{"harmful-speech", "Harmful Speech", "Bullying, harassment or discrimination."},
			{"violence", "(Child) Sexual Exploitation/Sexual/Violent Content", "Child sexual exploitation, sexual or violent content."},
		}},
		{"malicious-code", "Malicious Code", []Type{
			{"infected-system", "Infected System", "System infected with malware."},
			{"c2-server", "C2 Server", "Command-and-control server."},
			{"malware-distribution", "Malware Distribution", "URI used for malware distribution."},
			{"malware-configuration", "Malware Configuration", "URI hosting a malware configuration file."},
		}},
		{"information-gathering", "Information Gathering", []Type{
			{"scanner", "Scanning", "Attacks that send requests to a system to discover weaknesses."},
			{"sniffing", "Sniffing", "Observing and recording network traffic."},
			{"social-engineering", "Social Engineering", "Gathering information from a human being in a non-technical way."},
		}},
		{"intrusion-attempts", "Intrusion Attempts", []Type{
			{"ids-alert", "Exploitation of Known Vulnerabilities", "An attempt to compromise a system or disrupt a service by exploiting a known vulnerability."},
			{"brute-force", "Login Attempts", "Multiple brute-force login attempts."},
			{"exploit", "New Attack Signature", "An attack using an unknown exploit."},
		}},
		{"intrusions", "Intrusions", []Type{
			{"privileged-account-compromise", "Privileged Account Compromise", "Compromise of a system where the attacker gained administrative privileges."},
			{"unprivileged-account-compromise", "Unprivileged Account Compromise", "Compromise of a system using an unprivileged account."},
			{"application-compromise", "Application Compromise", "Compromise of an application by exploiting a vulnerability."},
			{"system-compromise", "System Compromise", "Compromise of a system."},
			{"burglary", "Burglary", "Physical intrusion."},
		}},
		{"availability", "Availability", []Type{
			{"dos", "Denial of Service", "Denial of service attack."},
			{"ddos", "Distributed Denial of Service", "Distributed denial of service attack."},
			{"misconfiguration", "Misconfiguration", "Software misconfiguration resulting in service availability issues."},
			{"sabotage", "Sabotage", "Physical sabotage."},
			{"outage", "Outage", "Outage caused, for example, by air conditioning failure or natural disaster."},
		}},
		{"information-content-security", "Information Content Security", []Type{
			{"unauthorised-information-access", "Unauthorised Access to Information", "Unauthorised access to information."},
			{"unauthorised-information-modification", "Unauthorised Modification of Information", "Unauthorised modification of information."},
			{"data-loss", "Data Loss", "Loss of data, e.g. hard disk failure or physical theft."},
			{"data-leak", "Leak of Confidential Information", "Leaked confidential information."},
		}},
		{"fraud", "Fraud", []Type{
			{"unauthorised-use-of-resources", "Unauthorised Use of Resources", "Using resources for unauthorised purposes."},
			{"copyright", "Copyright", "Offering or installing copies of unlicensed commercial software."},
			{"masquerade", "Masquerade", "Impersonating another entity to benefit from it."},
			{"phishing", "Phishing", "Masquerading as another entity to persuade the user to reveal private credentials."},
		}},
		{"vulnerable", "Vulnerable", []Type{
			{"weak-crypto", "Weak Cryptography", "Publicly accessible services offering weak cryptography."},
			{"ddos-amplifier", "DDoS Amplifier", "Publicly accessible services that can be abused for DDoS amplification."},
			{"potentially-unwanted-accessible", "Potentially Unwanted Accessible Services", "Potentially unwanted publicly accessible services."},
			{"information-disclosure", "Information Disclosure", "Publicly accessible services potentially disclosing sensitive information."},
			{"vulnerable-system", "Vulnerable System", "A system which is vulnerable to certain attacks."},
		}},
		{"other", "Other", []Type{
			{"other", "Uncategorised", "All incidents which don't fit in one of the given categories."},
			{"undetermined", "Undetermined", "The categorisation of the incident is unknown or undetermined."},
		}},
		{"test", "Test", []Type{
			{"test", "Test", "Meant for testing."},
		}},
	}
}

// Lookup returns the class and type for a type ID, and whether it exists.
func Lookup(typeID string) (Class, Type, bool) {
	for _, c := range Classes() {
		for _, t := range c.Types {
			if t.ID == typeID {
				return c, t, true
			}
		}
	}
	return Class{}, Type{}, false
}

// Valid reports whether classID/typeID is a pair of the taxonomy.
func Valid(classID, typeID string) bool {
	c, _, ok := Lookup(typeID)
	return ok && c.ID == classID
}
