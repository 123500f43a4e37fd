package corpus

import (
	"math/rand/v2"
	"strconv"
	"strings"

	dp "github.com/custodia/custodia/internal/dataprotection"
)

// L picks the Spanish or English phrase.
func L(lang, es, en string) string {
	if lang == "es" {
		return es
	}
	return en
}

func speakers(lang string) (agent, customer string) {
	return L(lang, "Agente", "Agent"), L(lang, "Cliente", "Customer")
}

// writeSpokenPAN says a card number, sometimes across two turns of the
// customer with a short reply of the agent between them.
func writeSpokenPAN(b *builder, r *rand.Rand, p, lang, agent, customer string) {
	if r.IntN(3) == 0 {
		cut := 8
		if len(p) == 15 {
			cut = 6
		}
		b.spoken(dp.CreditCard, speak(r, p[:cut], lang))
		b.textf("\n%s: %s\n%s: ", agent, L(lang, pick(r, []string{"sí, continúe", "vale", "ajá, siga"}), pick(r, []string{"yes, go on", "okay", "uh huh, continue"})), customer)
		b.spoken(dp.CreditCard, speak(r, p[cut:], lang))
		b.text("\n")
		return
	}
	b.spoken(dp.CreditCard, speak(r, p, lang))
	b.text("\n")
}

func noise(b *builder, r *rand.Rand, lang string) {
	switch r.IntN(6) {
	case 0:
		b.textf(L(lang, "el pedido %s de %s", "order %s for %s"), orderID(r), amount(r, lang))
	case 1:
		b.textf(L(lang, "el envío con seguimiento %s salió el %s", "the parcel with tracking %s left on %s"), tracking(r), timestamp(r))
	case 2:
		b.textf(L(lang, "el móvil con IMEI %s", "the handset with IMEI %s"), imei(r))
	case 3:
		b.textf(L(lang, "la factura %s por %s", "invoice %s for %s"), invoice(r), amount(r, lang))
	case 4:
		b.textf(L(lang, "la incidencia %d abierta el %s", "ticket %d opened on %s"), 100000+r.IntN(900000), timestamp(r))
	default:
		b.textf(L(lang, "%d unidades a %s, referencia %s", "%d units at %s, reference %s"), 1+r.IntN(20), amount(r, lang), digits(r, 8))
	}
}

func templates() []template {
	var ts []template
	add := func(id, kind string, fns ...func(b *builder, r *rand.Rand, p persona, lang string)) {
		// Variant A of each kind goes to train, B to eval: ids alternate.
		for _, lang := range []string{"es", "en"} {
			for v, fn := range fns {
				ts = append(ts, template{id: id + "-" + string(rune('A'+v)) + "-" + lang, kind: kind, lang: lang, fn: fn})
			}
		}
	}
	add("transcript-payment", "transcript", transcriptPaymentA, transcriptPaymentB)
	add("transcript-account", "transcript", transcriptAccountA, transcriptAccountB)
	add("chat", "chat", chatA, chatB)
	add("email", "email", emailA, emailB)
	add("crm", "crm", crmA, crmB)
	add("csv", "csv", csvA, csvB)
	for _, lang := range []string{"es", "en"} {
		ts = append(ts, template{id: "clean-transcript-" + lang, kind: "clean", lang: lang, fn: cleanTranscript},
			template{id: "clean-note-" + lang, kind: "clean", lang: lang, fn: cleanNote})
	}
	return ts
}

func transcriptPaymentA(b *builder, r *rand.Rand, p persona, lang string) {
	ag, cu := speakers(lang)
	b.textf("%s: %s\n%s: %s ", ag, L(lang, "Buenos días, gracias por llamar, ¿en qué puedo ayudarle?", "Good morning, thanks for calling, how can I help?"), cu, L(lang, "Hola, me llamo", "Hi, my name is"))
	b.pii(dp.Person, p.first+" "+p.last).text(L(lang, " y llamo por ", " and I'm calling about "))
	noise(b, r, lang)
	b.textf(".\n%s: %s\n%s: ", ag, L(lang, "De acuerdo. ¿Me dice el número de la tarjeta?", "Sure. Can you read me the card number?"), cu)
	pn := pan(r)
	if r.IntN(2) == 0 {
		writeSpokenPAN(b, r, pn, lang, ag, cu)
	} else {
		b.pii(dp.CreditCard, formatPAN(r, pn)).text("\n")
	}
	b.textf("%s: %s\n%s: ", ag, L(lang, "Gracias. ¿Y la fecha de caducidad?", "Thanks. And the expiry date?"), cu)
	b.pii(dp.CardExpiry, expiry(r)).text("\n")
	b.textf("%s: %s\n%s: ", ag, L(lang, "¿Y el código de seguridad, los tres dígitos de detrás?", "And the security code on the back?"), cu)
	c := cvv(r, len(pn) == 15)
	if r.IntN(2) == 0 {
		b.spoken(dp.CardCVV, speak(r, c, lang))
	} else {
		b.pii(dp.CardCVV, c)
	}
	b.textf("\n%s: %s %s.\n", ag, L(lang, "Perfecto, cobro realizado a las", "Perfect, the payment went through at"), timestamp(r)[11:16])
}

func transcriptPaymentB(b *builder, r *rand.Rand, p persona, lang string) {
	ag, cu := speakers(lang)
	b.textf("%s: %s", ag, L(lang, "Le atiende ", "You're through to ")).pii(dp.Person, "Marta").textf("%s\n%s: ", L(lang, ". ¿Con quién hablo?", ". Who am I speaking with?"), cu)
	b.text(L(lang, "Soy ", "This is ")).pii(dp.Person, p.first+" "+p.last).text(L(lang, ", tengo ", ", I have ")).text("")
	noise(b, r, lang)
	b.textf("\n%s: %s\n%s: ", ag, L(lang, "Para pagar con tarjeta necesito el número largo.", "To pay by card I need the long number."), cu)
	pn := pan(r)
	writeSpokenPAN(b, r, pn, lang, ag, cu)
	b.textf("%s: %s\n%s: ", ag, L(lang, "¿Cuándo vence?", "When does it expire?"), cu)
	e := expiry(r)
	if r.IntN(2) == 0 {
		b.spoken(dp.CardExpiry, speak(r, e[:2]+e[3:], lang))
	} else {
		b.pii(dp.CardExpiry, e)
	}
	b.textf("\n%s: %s\n%s: ", ag, L(lang, "¿CVV?", "CVV please?"), cu)
	b.spoken(dp.CardCVV, speak(r, cvv(r, len(pn) == 15), lang))
	b.textf("\n%s: %s ", ag, L(lang, "Gracias. ¿Un teléfono de contacto?", "Thanks. A contact phone number?"))
	b.textf("\n%s: ", cu)
	if r.IntN(2) == 0 {
		_, n := phoneES(r)
		b.spoken(dp.PhoneNumber, speak(r, n, lang))
	} else {
		w, _ := phoneES(r)
		b.pii(dp.PhoneNumber, w)
	}
	b.textf("\n%s: %s %s.\n", ag, L(lang, "Anotado. Su referencia es", "Noted. Your reference is"), orderID(r))
}

func transcriptAccountA(b *builder, r *rand.Rand, p persona, lang string) {
	ag, cu := speakers(lang)
	b.textf("%s: %s\n%s: ", ag, L(lang, "Para verificar su identidad, ¿me da su DNI?", "To verify your identity, your ID number please?"), cu)
	if r.IntN(2) == 0 {
		b.pii(dp.ESNIF, nif(r))
	} else {
		b.pii(dp.ESNIE, nie(r))
	}
	b.textf("\n%s: %s\n%s: %s ", ag, L(lang, "¿Fecha de nacimiento?", "Date of birth?"), cu, L(lang, "Nací el", "I was born on"))
	b.pii(dp.DateOfBirth, dob(r)).textf("\n%s: %s\n%s: ", ag, L(lang, "¿Dónde quiere la domiciliación?", "Which account should we debit?"), cu)
	b.textf("IBAN ").pii(dp.IBANCode, iban(r)).textf("\n%s: %s\n%s: ", ag, L(lang, "¿Y su correo?", "And your e-mail?"), cu)
	b.pii(dp.EmailAddress, email(r, p.first, p.last)).text("\n")
}

func transcriptAccountB(b *builder, r *rand.Rand, p persona, lang string) {
	ag, cu := speakers(lang)
	b.textf("%s: %s ", cu, L(lang, "Buenas, mi nombre es", "Hello, my name is")).pii(dp.Person, p.first+" "+p.last)
	b.text(L(lang, ", vivo en ", ", I live at ")).pii(dp.Location, pick(r, []string{"Calle Mayor", "Avenida de América", "Calle Alcalá", "Paseo de Gracia"})+" "+strconv.Itoa(1+r.IntN(80))).text(", ")
	b.pii(dp.ESPostalCode, postal(r)).text(" ").pii(dp.Location, p.city)
	b.textf("\n%s: %s\n%s: ", ag, L(lang, "¿Su número de la seguridad social?", "Your Spanish social security number?"), cu).pii(dp.ESNSS, nss(r))
	b.textf("\n%s: %s\n%s: ", ag, L(lang, "¿Un móvil?", "A mobile number?"), cu)
	w, _ := phoneES(r)
	b.pii(dp.PhoneNumber, w).textf("\n%s: %s ", ag, L(lang, "Gracias, consulto", "Thanks, let me check"))
	noise(b, r, lang)
	b.text(".\n")
}

func chatA(b *builder, r *rand.Rand, p persona, lang string) {
	b.textf("[%s] ", timestamp(r)[11:]).pii(dp.Person, p.first).textf(": %s\n", L(lang, "hola, quiero pagar la factura pendiente", "hi, I want to pay my outstanding bill"))
	b.textf("[%s] bot: %s\n", timestamp(r)[11:], L(lang, "Escriba el número de tarjeta, por favor.", "Please type your card number."))
	b.textf("[%s] ", timestamp(r)[11:]).pii(dp.Person, p.first).text(": ").pii(dp.CreditCard, formatPAN(r, pan(r))).text(L(lang, " caduca ", " exp ")).pii(dp.CardExpiry, expiry(r))
	b.text(L(lang, " cvv ", " cvv ")).pii(dp.CardCVV, cvv(r, false)).text("\n")
	b.textf("[%s] bot: %s ", timestamp(r)[11:], L(lang, "Pago recibido:", "Payment received:"))
	noise(b, r, lang)
	b.text("\n")
}

func chatB(b *builder, r *rand.Rand, p persona, lang string) {
	b.pii(dp.Person, p.first).textf(": %s ", L(lang, "mi NIE es", "my NIE is")).pii(dp.ESNIE, nie(r)).text(L(lang, " y la matrícula del coche ", " and my car plate is ")).pii(dp.ESLicensePlate, plate(r))
	b.textf("\n%s: %s ", L(lang, "agente", "agent"), L(lang, "gracias, ¿cuenta para el reembolso?", "thanks, which account for the refund?"))
	b.text("\n").pii(dp.Person, p.first).text(": ").pii(dp.IBANCode, iban(r)).text(L(lang, " y mi email ", " and my email ")).pii(dp.EmailAddress, email(r, p.first, p.last))
	b.textf("\n%s: ", L(lang, "agente", "agent"))
	noise(b, r, lang)
	b.text("\n")
}

func emailA(b *builder, r *rand.Rand, p persona, lang string) {
	b.text("From: ").pii(dp.Person, p.first+" "+p.last).text(" <").pii(dp.EmailAddress, email(r, p.first, p.last)).text(">\nTo: ").pii(dp.EmailAddress, "soporte@custodia-cc.es").text("\nSubject: ")
	b.textf(L(lang, "Factura %s\n\n", "Invoice %s\n\n"), invoice(r))
	b.text(L(lang, "Hola,\n\nles escribo por ", "Hello,\n\nI am writing about "))
	noise(b, r, lang)
	b.text(L(lang, ". Pueden llamarme al ", ". You can call me on "))
	if lang == "es" {
		w, _ := phoneES(r)
		b.pii(dp.PhoneNumber, w)
	} else {
		b.pii(dp.PhoneNumber, phoneIntl(r))
	}
	b.text(L(lang, ". Les dejo mi IBAN: ", ". My IBAN is ")).pii(dp.IBANCode, iban(r)).text(".\n\n")
	b.text(L(lang, "Un saludo,\n", "Best regards,\n")).pii(dp.Person, p.first+" "+p.last).text("\n")
}

func emailB(b *builder, r *rand.Rand, p persona, lang string) {
	b.textf("Subject: %s\n\n", L(lang, "Alta de cliente", "New customer"))
	b.text(L(lang, "Estimado equipo:\n\nAdjunto los datos de ", "Dear team,\n\nHere are the details of ")).pii(dp.Person, p.first+" "+p.last2)
	if lang == "es" {
		b.text(": DNI ").pii(dp.ESNIF, nif(r)).text(", pasaporte ").pii(dp.ESPassport, passport(r))
	} else {
		b.text(": SSN ").pii(dp.USSSN, ssn(r)).text(", National Insurance number ").pii(dp.UKNINO, nino(r))
	}
	b.text(L(lang, ", empresa con CIF ", ", company tax id (CIF) ")).pii(dp.ESCIF, cif(r)).text(".\n")
	b.text(L(lang, "Portal: ", "Portal: ")).pii(dp.URL, "https://portal.custodia-cc.es/clientes/"+digits(r, 6)).text("\n")
	b.text(L(lang, "Envío relacionado: ", "Related shipment: "))
	noise(b, r, lang)
	b.text("\n")
}

func crmA(b *builder, r *rand.Rand, p persona, lang string) {
	b.textf(L(lang, "NOTA %s - ", "NOTE %s - "), timestamp(r))
	b.text(L(lang, "Cliente ", "Customer ")).pii(dp.Person, p.first+" "+p.last).text(" (").pii(dp.ESNIF, nif(r)).text(L(lang, ") llama desde ", ") called from "))
	w, _ := phoneES(r)
	b.pii(dp.PhoneNumber, w).text(L(lang, ". Acceso web desde ", ". Web login from ")).pii(dp.IPAddress, ipv4(r)).text(". ")
	noise(b, r, lang)
	b.text(".\n")
}

func crmB(b *builder, r *rand.Rand, p persona, lang string) {
	b.textf("[CRM] %s: ", L(lang, "incidencia", "case"))
	noise(b, r, lang)
	b.text(L(lang, ". Contacto: ", ". Contact: ")).pii(dp.EmailAddress, email(r, p.first, p.last2))
	b.text(L(lang, ", IP ", ", IP ")).pii(dp.IPAddress, ipv6(r))
	b.text(L(lang, ", fecha de nacimiento ", ", date of birth ")).pii(dp.DateOfBirth, dob(r))
	b.text(L(lang, ", teléfono ", ", phone ")).pii(dp.PhoneNumber, phoneIntl(r)).text(".\n")
}

func csvA(b *builder, r *rand.Rand, p persona, lang string) {
	b.text(L(lang, "nombre,telefono,email,iban,importe,pedido\n", "name,phone,email,iban,amount,order\n"))
	for i := 0; i < 3; i++ {
		q := newPersona(r)
		b.pii(dp.Person, q.first+" "+q.last).text(",")
		w, _ := phoneES(r)
		b.pii(dp.PhoneNumber, w).text(",").pii(dp.EmailAddress, email(r, q.first, q.last)).text(",").pii(dp.IBANCode, iban(r))
		b.textf(",\"%s\",%s\n", amount(r, lang), orderID(r))
	}
}

func csvB(b *builder, r *rand.Rand, p persona, lang string) {
	b.text("id,pan,expiry,cvv,nss,created\n")
	for i := 0; i < 3; i++ {
		b.textf("%d,", 1000+r.IntN(9000)).pii(dp.CreditCard, formatPAN(r, pan(r))).text(",").pii(dp.CardExpiry, expiry(r))
		b.text(",").pii(dp.CardCVV, cvv(r, false)).text(",").pii(dp.ESNSS, nss(r)).textf(",%s\n", timestamp(r))
	}
}

func cleanTranscript(b *builder, r *rand.Rand, p persona, lang string) {
	ag, cu := speakers(lang)
	for i := 0; i < 4; i++ {
		b.textf("%s: %s ", cu, L(lang, pick(r, []string{"llamo por", "quería saber de", "me cobraron dos veces", "no me ha llegado"}),
			pick(r, []string{"I'm calling about", "I wanted to ask about", "I was charged twice for", "I never received"})))
		noise(b, r, lang)
		b.textf("\n%s: %s ", ag, L(lang, pick(r, []string{"lo reviso, son", "consta", "le confirmo"}), pick(r, []string{"let me check, that's", "I can see", "I confirm"})))
		noise(b, r, lang)
		b.text("\n")
	}
	b.textf("%s: %s\n", ag, L(lang, "Gracias por llamar, que tenga un buen día.", "Thanks for calling, have a good day."))
	_ = strings.TrimSpace
}

func cleanNote(b *builder, r *rand.Rand, p persona, lang string) {
	for i := 0; i < 5; i++ {
		b.textf("%s | ", timestamp(r))
		noise(b, r, lang)
		b.textf(L(lang, " | duración %d:%02d | encuesta %d/10 | %d%% resuelto\n", " | duration %d:%02d | survey %d/10 | %d%% resolved\n"), r.IntN(30), r.IntN(60), r.IntN(11), r.IntN(101))
	}
}
