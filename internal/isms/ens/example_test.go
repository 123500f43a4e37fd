package ens_test

import (
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/ens"
)

func ExampleNewSoA() {
	lib, err := catalog.Builtin()
	if err != nil {
		panic(err)
	}
	c, _ := lib.Catalog(catalog.ENS)
	v := ens.Valuation{C: ens.Medio, I: ens.Bajo, T: ens.NotApplicable, A: ens.Alto, D: ens.Bajo}
	soa, err := ens.NewSoA(c, "Plataforma de atención al ciudadano", v)
	if err != nil {
		panic(err)
	}
	fmt.Println(v, "→", soa.Category)
	for _, id := range []string{"op.acc.6", "op.cont.2", "mp.com.2"} {
		e, _ := soa.Entry(id)
		fmt.Println(id, e.Applies, e.Choices, e.Reinforcements)
	}
	k, _ := ens.NewConformity(soa.Category, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC))
	fmt.Println(k.Path, k.NextDue.Format(time.DateOnly))
	// Output:
	// C=MEDIO I=BAJO T=n.a. A=ALTO D=BAJO → ALTA
	// op.acc.6 true [[R1 R2 R3 R4]] [R5 R6 R7 R8 R9]
	// op.cont.2 false [] []
	// mp.com.2 true [] [R1]
	// auditoría de certificación 2027-06-30
}
