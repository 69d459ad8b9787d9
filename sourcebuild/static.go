package sourcebuild

// generateStatic writes the build of a static site: the context is copied to /www, which busybox's
// httpd serves on $PORT as nobody.
func generateStatic(s *source) (string, error) {
	var d dockerfile
	d.header(Static, s.reason)
	d.line("FROM %s", s.images.Static)
	d.line("WORKDIR /www")
	d.line("COPY . /www")
	if s.opts.Build != "" {
		d.run("", s.opts.Build)
	}
	command := `CMD ["sh","-c","exec httpd -f -v -p \"$PORT\" -h /www"]`
	if s.opts.Start != "" {
		command = shellCommand(s.opts.Start)
	}
	d.listen("65534:65534", command)
	return d.String(), nil
}
