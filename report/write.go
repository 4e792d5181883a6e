package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ReportFile is the name of the Markdown report WriteReport writes.
const ReportFile = "report.md"

// WriteReport reads the result folder dir (ladder.json or MODE.json, the
// profiles MODE.pb.gz or MODE.ROLE.pb.gz, and the wall profiles
// MODE.ROLE.wall.pb.gz when present) and writes dir/report.md and
// dir/throughput.svg. Both are rendered in memory first and then written
// atomically (a temporary file in dir, then a rename), so an error leaves
// neither half-written nor any temporary file behind. Bad input is a
// *FileError.
func WriteReport(dir string, opt Options) error {
	f, err := OpenFolder(dir)
	if err != nil {
		return err
	}
	s, err := Summarize(f, opt)
	if err != nil {
		return err
	}
	var md, svg bytes.Buffer
	if err := WriteSummaryMarkdown(&md, s); err != nil {
		return fmt.Errorf("render %s: %w", ReportFile, err)
	}
	if err := WriteThroughputSVG(&svg, s.Throughput, chartOptions(s)); err != nil {
		return fmt.Errorf("render %s: %w", ChartFile, err)
	}
	return writeFiles(dir, []outFile{{ChartFile, svg.Bytes()}, {ReportFile, md.Bytes()}})
}

// chartOptions titles the chart with the machine it describes.
func chartOptions(s *Summary) ChartOptions {
	opt := ChartOptions{Post: true}
	if e := s.Env; e != nil {
		opt.Subtitle = fmt.Sprintf("Linux %s · %s · %d CPUs · %s", e.Kernel, e.CPUModel, e.CPUs, e.Time.UTC().Format("2006-01-02"))
	}
	return opt
}

type outFile struct {
	name string
	data []byte
}

// writeFiles writes every file to a temporary file in dir, then renames
// them into place; on error it removes the temporary files.
func writeFiles(dir string, files []outFile) (err error) {
	var tmps []string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		t, err := writeTemp(dir, f)
		if t != "" {
			tmps = append(tmps, t)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// writeTemp writes f to a new temporary file in dir and returns its path,
// also on error once the file exists.
func writeTemp(dir string, f outFile) (string, error) {
	t, err := os.CreateTemp(dir, "."+f.name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
	}
	_, werr := t.Write(f.data)
	err = errors.Join(werr, t.Chmod(0o644), t.Sync(), t.Close())
	if err != nil {
		return t.Name(), fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
	}
	return t.Name(), nil
}
