package blob

// SetCopyLimits lowers the size above which S3 copies in parts and the part
// size, so a test can exercise the multipart copy with a small object.
func SetCopyLimits(s *S3, maxSingle, part int64) { s.maxCopy, s.copyPart = maxSingle, part }
