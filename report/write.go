package report

import (
	"bytes"
	"fmt"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// Write reads the result folder dir (ladder.json or MODE.json, the
// profiles MODE.pb.gz or MODE.ROLE.pb.gz, and the wall profiles
// MODE.ROLE.wall.pb.gz when present) and writes dir/report.md,
// dir/throughput.svg and the flame graphs report.md embeds (MODE.ROLE.svg,
// MODE.ROLE.offcpu.svg, FROM-TO.ROLE.diff.svg). All are rendered in memory
// first and then written
// atomically (a temporary file in dir, then a rename), so an error leaves
// neither half-written nor any temporary file behind. Bad input is a
// *FileError.
func Write(dir string, opt attribute.Options) error {
	f, err := result.OpenFolder(dir)
	if err != nil {
		return err
	}
	s, err := summarize(f, opt)
	if err != nil {
		return err
	}
	var md, svg bytes.Buffer
	if err := writeSummaryMarkdown(&md, s); err != nil {
		return fmt.Errorf("render %s: %w", result.ReportFile, err)
	}
	if err := throughput.WriteChart(&svg, s.Throughput, titledChart(s, result.Ceilings(f.Steps))); err != nil {
		return fmt.Errorf("render %s: %w", result.ChartFile, err)
	}
	outs, err := flameOutputs(s)
	if err != nil {
		return err
	}
	outs = append(outs, result.BytesOutput(result.ChartFile, svg.Bytes()), result.BytesOutput(result.ReportFile, md.Bytes()))
	return result.WriteFiles(dir, outs...)
}

// titledChart titles the chart with the machine it describes, and draws
// the ceilings the steps measured.
func titledChart(s *summary, ceilings []result.Ceiling) throughput.ChartOptions {
	opt := throughput.ChartOptions{Post: true, Ceilings: ceilings}
	if e := s.Env; e != nil {
		opt.Subtitle = fmt.Sprintf("Linux %s · %s · %d CPUs · %s", e.Kernel, e.CPUModel, e.CPUs, e.Time.UTC().Format("2006-01-02"))
	}
	return opt
}
