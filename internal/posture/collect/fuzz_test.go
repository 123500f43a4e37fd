package collect

import (
	"bytes"
	"testing"
)

// FuzzParsers feeds arbitrary command outputs and files to every collector
// parser: none may panic, whatever a machine prints.
func FuzzParsers(f *testing.F) {
	seeds := []string{
		"dpkg-status", "systemctl-units.txt", "systemctl-unit-files.txt", "sw_vers.txt",
		"ps-macos.txt", "launchctl-list.txt", "tasklist.csv", "net-localgroup.txt", "registry-win11.yml",
	}
	for i, s := range seeds {
		b, err := readSeed(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(9), []byte("PRETTY_NAME=\"Debian\"\nID=debian\nVERSION_ID='12'\n"))
	f.Add(uint8(10), []byte("bash\t0:5.2.15-2\nopenssl\t1:3.0.13-1\n"))
	f.Add(uint8(11), []byte("<plist><dict><key>a</key><string>b &amp; c</string><key>x</key></dict>"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		switch which % 12 {
		case 0:
			_, _ = ParseDpkgStatus(bytes.NewReader(data))
		case 1, 2:
			_ = ParseSystemctl(data, data)
		case 3:
			_ = ParseSwVers(data)
		case 4:
			_ = ParsePS(data)
		case 5:
			_ = ParseLaunchctlList(data)
		case 6:
			_, _ = ParseTasklistCSV(data)
		case 7:
			_ = WindowsIsAdmin(ParseNetLocalGroup(data), `CC\agent7`)
		case 8:
			if reg, err := LoadRegistryFixture(data); err == nil {
				_, _ = WindowsOS(reg)
				_, _ = WindowsPackages(reg)
				_ = WindowsLastUser(reg)
			}
		case 9:
			_ = ParseOSRelease(data)
		case 10:
			_ = ParseRPM(data)
		case 11:
			_ = ParsePlistStrings(data)
			_ = ParseGroupFile(data, data, "agent7")
		}
	})
}
