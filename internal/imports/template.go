package imports

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/xuri/excelize/v2"
)

// TemplateCSV is an empty import file: the header row, UTF-8 with a byte
// order mark (so that spreadsheet programs open it as UTF-8).
func TemplateCSV() []byte {
	var b bytes.Buffer
	b.Write(bomUTF8)
	w := csv.NewWriter(&b)
	_ = w.Write(Columns)
	w.Flush()
	return b.Bytes()
}

// TemplateXLSX is an empty import workbook: the header row on the first
// sheet, every column formatted as text (so that passport numbers keep
// their leading zeros and dates are not turned into numbers).
func TemplateXLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	style, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, fmt.Errorf("template style: %w", err)
	}
	last, _ := excelize.ColumnNumberToName(len(Columns))
	if err := f.SetColStyle(sheet, "A:"+last, style); err != nil {
		return nil, fmt.Errorf("template style: %w", err)
	}
	for i, c := range Columns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, c); err != nil {
			return nil, fmt.Errorf("template header: %w", err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return b.Bytes(), nil
}
