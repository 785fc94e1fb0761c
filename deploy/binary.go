package deploy

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// binaryInfo describes the zkctl binary a deploy pushes.
type binaryInfo struct {
	path   string
	arch   string // GOARCH name
	sha256 string
	size   int64
}

func describeBinary(path string) (binaryInfo, error) {
	sum, n, err := fileSHA256(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("binary: %w", err)
	}
	ef, err := elf.Open(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("binary %s is not a Linux executable: %w", path, err)
	}
	defer ef.Close()
	return binaryInfo{path: path, arch: elfArch(ef.Machine), sha256: sum, size: n}, nil
}

// fileSHA256 is the hex sha256 and the size of a local file: what deploy
// compares with `sha256sum` on a host before sending it again.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func elfArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return m.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
