package response

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/clock"
	"github.com/custodia/custodia/internal/store"
)

// DraftField is one field of a notification form.
type DraftField struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Value     string `json:"value"`
	Multiline bool   `json:"multiline,omitempty"`
	Required  bool   `json:"required,omitempty"`
}

// Draft is a notification ready to edit, export or paste.
type Draft struct {
	ClockID   int64        `json:"clock_id"`
	Kind      string       `json:"kind"`
	Title     string       `json:"title"`
	Recipient string       `json:"recipient"`
	Ref       string       `json:"ref"`
	Lang      string       `json:"lang"`
	Version   int64        `json:"version"` // 0: not saved yet (filled from the incident)
	SavedBy   string       `json:"saved_by,omitempty"`
	SavedAt   time.Time    `json:"saved_at,omitzero"`
	Fields    []DraftField `json:"fields"`
}

type spec struct {
	key       string
	en, es    string
	multiline bool
	required  bool
}

// Field sets by recipient. The AEPD set follows the sections of the AEPD's
// breach-notification form; the client notice the content GDPR Art. 33(3)
// requires; CCN-CERT the fields of the national incident guide's
// notification; DORA the initial, intermediate and final report templates
// (RTS/ITS under DORA Art. 20), reduced to what Custodia can prefill.
var (
	common = []spec{
		{"reference", "Incident reference", "Referencia del incidente", false, true},
		{"notifier", "Notifying organisation", "Entidad notificante", false, true},
		{"contact", "Contact person (name, e-mail, phone)", "Persona de contacto (nombre, correo, teléfono)", false, true},
		{"aware_at", "Date and time the organisation became aware", "Fecha y hora en que se tuvo conocimiento", false, true},
	}
	gdprAuthority = []spec{
		{"notification_type", "Type of notification (complete / initial of a phased notification)", "Tipo de notificación (completa / inicial de una notificación por fases)", false, true},
		{"role", "Role of the notifier (controller / processor)", "Rol del notificante (responsable / encargado)", false, true},
		{"dpo", "Data protection officer", "Delegado de protección de datos", false, false},
		{"breach_start", "When the breach started (if known)", "Cuándo comenzó la brecha (si se conoce)", false, false},
		{"nature", "Nature of the breach (confidentiality, integrity, availability) and how it happened", "Naturaleza de la brecha (confidencialidad, integridad, disponibilidad) y cómo se produjo", true, true},
		{"data_categories", "Categories of personal data affected", "Categorías de datos personales afectados", true, true},
		{"subjects", "Approximate number of data subjects affected", "Número aproximado de interesados afectados", false, true},
		{"records", "Approximate number of records affected", "Número aproximado de registros afectados", false, true},
		{"consequences", "Likely consequences for the data subjects", "Posibles consecuencias para los interesados", true, true},
		{"measures", "Measures taken or proposed, including to mitigate effects", "Medidas adoptadas o propuestas, incluidas las de mitigación", true, true},
		{"art34", "Communication to data subjects (GDPR Art. 34)", "Comunicación a los interesados (art. 34 RGPD)", true, true},
		{"cross_border", "Cross-border processing / other authorities notified", "Tratamiento transfronterizo / otras autoridades notificadas", false, false},
		{"late_reasons", "Reasons for the delay (if notified after 72 hours)", "Motivos del retraso (si se notifica después de 72 horas)", true, false},
	}
	gdprController = []spec{
		{"controller", "Controller (client) notified", "Responsable del tratamiento (cliente) notificado", false, true},
		{"nature", "Nature of the breach, categories and approximate number of data subjects and records", "Naturaleza de la brecha, categorías y número aproximado de interesados y registros", true, true},
		{"data_categories", "Categories of personal data affected", "Categorías de datos personales afectados", true, true},
		{"subjects", "Approximate number of data subjects", "Número aproximado de interesados", false, true},
		{"records", "Approximate number of records", "Número aproximado de registros", false, true},
		{"dpo", "Data protection officer or other contact point", "Delegado de protección de datos u otro punto de contacto", false, true},
		{"consequences", "Likely consequences", "Posibles consecuencias", true, true},
		{"measures", "Measures taken or proposed by the processor", "Medidas adoptadas o propuestas por el encargado", true, true},
		{"assistance", "Assistance offered to the controller (Art. 28(3)(f))", "Asistencia ofrecida al responsable (art. 28.3.f)", true, false},
	}
	art34 = []spec{
		{"decision", "Decision: inform data subjects or not", "Decisión: informar o no a los interesados", false, true},
		{"reasons", "Reasons (high risk assessment, Art. 34(3) exceptions)", "Motivos (evaluación del alto riesgo, excepciones del art. 34.3)", true, true},
		{"message", "Message to data subjects in clear and plain language", "Mensaje a los interesados en lenguaje claro y sencillo", true, false},
	}
	ccn = []spec{
		{"organism", "Organisation and affected system (ENS category)", "Organismo y sistema afectado (categoría ENS)", false, true},
		{"danger_level", "Danger level (CCN-STIC 817)", "Nivel de peligrosidad (CCN-STIC 817)", false, true},
		{"taxonomy", "Classification (national incident guide taxonomy)", "Clasificación (taxonomía de la guía nacional)", false, true},
		{"description", "Description of the incident", "Descripción del incidente", true, true},
		{"impact", "Impact (services, information, users)", "Impacto (servicios, información, usuarios)", true, true},
		{"measures", "Containment and mitigation measures", "Medidas de contención y mitigación", true, true},
		{"status", "Current status", "Estado actual", false, true},
	}
	nis2 = []spec{
		{"malicious", "Suspected unlawful or malicious act", "Sospecha de acto ilícito o malintencionado", false, true},
		{"cross_border", "Possible cross-border impact", "Posible impacto transfronterizo", false, true},
		{"description", "Description and initial assessment (severity, impact)", "Descripción y evaluación inicial (gravedad, impacto)", true, true},
		{"indicators", "Indicators of compromise", "Indicadores de compromiso", true, false},
		{"measures", "Mitigation measures applied and ongoing", "Medidas de mitigación aplicadas y en curso", true, false},
		{"root_cause", "Root cause (final report)", "Causa raíz (informe final)", true, false},
	}
	dora = []spec{
		{"entity", "Financial entity", "Entidad financiera", false, true},
		{"report_type", "Report type (initial / intermediate / final)", "Tipo de informe (inicial / intermedio / final)", false, true},
		{"classified_at", "Date and time of classification as major", "Fecha y hora de clasificación como grave", false, true},
		{"description", "Description of the incident", "Descripción del incidente", true, true},
		{"criteria", "Classification criteria met (clients, duration, geography, data losses, criticality, economic impact)", "Criterios de clasificación cumplidos (clientes, duración, extensión geográfica, pérdida de datos, criticidad, impacto económico)", true, true},
		{"services", "Affected services and functions", "Servicios y funciones afectados", true, true},
		{"measures", "Actions taken and recovery", "Acciones adoptadas y recuperación", true, false},
		{"root_cause", "Root cause (final report)", "Causa raíz (informe final)", true, false},
	}
)

func specsFor(kind string) (title [2]string, specs []spec) {
	switch clock.Kind(kind) {
	case clock.GDPRAuthority:
		return [2]string{"Personal data breach notification to the supervisory authority (GDPR Art. 33)", "Notificación de brecha de datos personales a la autoridad de control (art. 33 RGPD)"}, gdprAuthority
	case clock.GDPRController:
		return [2]string{"Notice of a personal data breach to the controller (GDPR Art. 33(2))", "Aviso de brecha de datos personales al responsable (art. 33.2 RGPD)"}, gdprController
	case clock.GDPRArt34:
		return [2]string{"Decision on communicating the breach to data subjects (GDPR Art. 34)", "Decisión sobre la comunicación de la brecha a los interesados (art. 34 RGPD)"}, art34
	case clock.ENSNotification:
		return [2]string{"Incident notification to CCN-CERT (ENS art. 33)", "Notificación de incidente al CCN-CERT (art. 33 ENS)"}, ccn
	case clock.NIS2EarlyWarning, clock.NIS2Notification, clock.NIS2Final:
		return [2]string{"NIS2 incident report (Art. 23)", "Notificación de incidente NIS2 (art. 23)"}, nis2
	default:
		return [2]string{"DORA major ICT-related incident report", "Informe de incidente grave relacionado con las TIC (DORA)"}, dora
	}
}

// NormalizeLang returns "es" or "en".
func NormalizeLang(lang string) string {
	if strings.HasPrefix(lang, "es") {
		return "es"
	}
	return "en"
}

// Draft returns the newest saved version of the clock's draft, or one
// filled from the incident when none was saved (or lang differs from the
// saved one and version is 0: then the saved values are kept and only
// labels change).
func (s *Service) Draft(ctx context.Context, scope identity.Scope, incidentID, clockID int64, lang string, version int64) (*Draft, error) {
	c, err := s.Store.ResponseClock(ctx, scope, incidentID, clockID)
	if err != nil {
		return nil, err
	}
	v, err := s.View(ctx, scope, incidentID)
	if err != nil {
		return nil, err
	}
	lang = NormalizeLang(lang)
	if op, err := s.Store.Operator(ctx); err == nil {
		v.Operator = op.Name
	}
	d := s.fill(v, c, lang)
	var saved *store.ResponseDraft
	if version > 0 {
		saved, err = s.Store.ResponseDraftVersion(ctx, clockID, version)
	} else {
		saved, err = s.Store.ResponseDraftLatest(ctx, clockID)
	}
	switch {
	case err == nil:
		for i := range d.Fields {
			if val, ok := saved.Fields[d.Fields[i].Key]; ok {
				d.Fields[i].Value = val
			}
		}
		d.Version, d.SavedBy, d.SavedAt = saved.Version, saved.CreatedBy, saved.CreatedAt
	case version > 0 || !isNotFound(err):
		return nil, err
	}
	return d, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// SaveDraft stores edited field values as the draft's next version.
func (s *Service) SaveDraft(ctx context.Context, p *identity.Principal, incidentID, clockID int64, lang string, values map[string]string) (*Draft, error) {
	c, err := s.Store.ResponseClock(ctx, p.Scope(), incidentID, clockID)
	if err != nil {
		return nil, err
	}
	_, specs := specsFor(c.Kind)
	fields := map[string]string{}
	var fe FieldErrors
	for _, sp := range specs {
		val := strings.ReplaceAll(values[sp.key], "\r\n", "\n")
		if len(val) > 20000 {
			fe = append(fe, FieldError{sp.key, "is too long"})
		}
		fields[sp.key] = val
	}
	for _, sp := range common {
		fields[sp.key] = strings.ReplaceAll(values[sp.key], "\r\n", "\n")
	}
	for k := range values {
		if _, ok := fields[k]; !ok {
			fe = append(fe, FieldError{k, "is not a field of this notification"})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	now := s.now()
	d := &store.ResponseDraft{ClockID: clockID, Lang: NormalizeLang(lang), Fields: fields, CreatedBy: p.Actor(), CreatedAt: now}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ResponseSaveDraft(ctx, d); err != nil {
			return err
		}
		if err := tx.ResponseTimeline(ctx, incidentID, now, p.Actor(), "draft_saved",
			fmt.Sprintf("Draft for %s → %s saved (version %d)", c.Rule, c.Recipient, d.Version)); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "response.draft_save", ObjectType: "response_clock", ObjectID: strconv.FormatInt(clockID, 10),
			ClientID: c.ClientID, After: d, Detail: fmt.Sprintf("version %d", d.Version)})
	})
	if err != nil {
		return nil, err
	}
	return s.Draft(ctx, p.Scope(), incidentID, clockID, lang, d.Version)
}

// DraftVersions lists the saved versions of a clock's draft.
func (s *Service) DraftVersions(ctx context.Context, scope identity.Scope, incidentID, clockID int64) ([]store.ResponseDraft, error) {
	if _, err := s.Store.ResponseClock(ctx, scope, incidentID, clockID); err != nil {
		return nil, err
	}
	return s.Store.ResponseDraftVersions(ctx, clockID)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// fill builds the draft from the incident's facts.
func (s *Service) fill(v *View, c *store.ResponseClock, lang string) *Draft {
	es := lang == "es"
	pick := func(en, esText string) string {
		if es {
			return esText
		}
		return en
	}
	title, specs := specsFor(c.Kind)
	d := &Draft{ClockID: c.ID, Kind: c.Kind, Title: pick(title[0], title[1]), Recipient: c.Recipient, Ref: v.Incident.Ref, Lang: lang}
	val := map[string]string{
		"reference": v.Incident.Ref + " — " + v.Incident.Title,
		"aware_at":  fmtTime(v.Incident.AwareAt),
		"taxonomy":  v.Incident.Category,
		"status":    v.Incident.Status,
		"notifier":  v.Operator,
		"organism":  v.Operator,
	}
	var clientNames []string
	for _, cl := range v.Incident.Clients {
		clientNames = append(clientNames, cl.ClientName)
		if c.ClientID == cl.ClientID {
			val["controller"] = cl.ClientName
			if cl.ContactName != "" || cl.ContactEmail != "" {
				val["controller"] += " — " + strings.TrimSpace(cl.ContactName+" <"+cl.ContactEmail+">")
			}
			val["entity"] = cl.ClientName
		}
	}
	if b := v.Breach; b != nil {
		val["nature"] = b.Nature
		val["description"] = b.Nature
		val["data_categories"] = b.DataCategories
		val["subjects"] = strconv.FormatInt(b.SubjectsCount, 10)
		val["records"] = strconv.FormatInt(b.RecordsCount, 10)
		val["consequences"] = b.Consequences
		val["measures"] = b.Measures
		switch b.Art34Decision {
		case "inform":
			val["art34"] = pick("Data subjects will be informed: ", "Se informará a los interesados: ") + b.Art34Reasons
			val["decision"] = pick("Inform data subjects", "Informar a los interesados")
			val["reasons"] = b.Art34Reasons
		case "not_required":
			val["art34"] = pick("Data subjects will not be informed: ", "No se informará a los interesados: ") + b.Art34Reasons
			val["decision"] = pick("Not required", "No es necesario")
			val["reasons"] = b.Art34Reasons
		default:
			val["art34"] = pick("Decision pending", "Decisión pendiente")
		}
	}
	val["impact"] = pick("Clients affected: ", "Clientes afectados: ") + strings.Join(clientNames, ", ")
	val["services"] = val["impact"]
	switch clock.Kind(c.Kind) {
	case clock.GDPRAuthority:
		val["notification_type"] = pick("Initial (phased notification, GDPR Art. 33(4))", "Inicial (notificación por fases, art. 33.4 RGPD)")
		if len(v.Incident.Clients) > 0 {
			val["role"] = pick("Processor on behalf of: ", "Encargado del tratamiento por cuenta de: ") + strings.Join(clientNames, ", ")
		} else {
			val["role"] = pick("Controller", "Responsable del tratamiento")
		}
		if !c.SentAt.IsZero() && c.SentAt.After(c.Deadline) || s.now().After(c.Deadline) {
			val["late_reasons"] = c.LateReason
		}
	case clock.ENSNotification:
		val["danger_level"] = levelName(v.Facts.ENSLevel)
	case clock.DORAInitial:
		val["report_type"] = pick("Initial", "Inicial")
	case clock.DORAIntermediate:
		val["report_type"] = pick("Intermediate", "Intermedio")
	case clock.DORAFinal:
		val["report_type"] = pick("Final", "Final")
	}
	if !v.Facts.MajorAt.IsZero() {
		val["classified_at"] = fmtTime(v.Facts.MajorAt)
	}
	for _, sp := range append(append([]spec{}, common...), specs...) {
		d.Fields = append(d.Fields, DraftField{Key: sp.key, Label: pick(sp.en, sp.es), Value: val[sp.key], Multiline: sp.multiline, Required: sp.required})
	}
	return d
}

// Text renders the draft as plain text to paste into the recipient's form:
// one "Label:" line per field followed by its value.
func (d *Draft) Text() string {
	var b strings.Builder
	b.WriteString(d.Title + "\n")
	b.WriteString(strings.Repeat("=", min(len([]rune(d.Title)), 78)) + "\n")
	to := "To"
	if d.Lang == "es" {
		to = "Destinatario"
	}
	b.WriteString(to + ": " + d.Recipient + "\n\n")
	for _, f := range d.Fields {
		b.WriteString(f.Label + ":\n")
		v := strings.TrimSpace(f.Value)
		if v == "" {
			v = "—"
		}
		b.WriteString(v + "\n\n")
	}
	return b.String()
}

// PDF renders the draft as a PDF document (core fonts, Windows-1252 for
// Spanish accents; characters outside it become "?").
func (d *Draft) PDF() ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	// Uncompressed: drafts are short, and the text stays searchable by
	// tools that do not inflate streams.
	pdf.SetCompression(false)
	pdf.SetTitle(d.Ref, false)
	pdf.SetSubject(d.Title, true)
	pdf.SetCreator("Custodia", false)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 14)
	pdf.MultiCell(0, 7, tr(d.Title), "", "L", false)
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 10)
	to := "To"
	if d.Lang == "es" {
		to = "Destinatario"
	}
	pdf.MultiCell(0, 5, tr(to+": "+d.Recipient+"   ·   "+d.Ref), "", "L", false)
	pdf.Ln(4)
	for _, f := range d.Fields {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.MultiCell(0, 5, tr(f.Label), "", "L", false)
		pdf.SetFont("Helvetica", "", 10)
		v := strings.TrimSpace(f.Value)
		if v == "" {
			v = "—"
		}
		pdf.MultiCell(0, 5, tr(v), "", "L", false)
		pdf.Ln(2)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render draft PDF: %w", err)
	}
	return buf.Bytes(), nil
}
