# conf-examples/ — shipped as documentation and used by ./quickstart and the tests.
# rendercgi.conf is installed to $(sysconfdir)/rendercgi/ unless one is already
# there: an operator's configuration is never overwritten by "make install".
rendercgiconfdir = $(sysconfdir)/rendercgi
EXTRA_DIST += conf-examples

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(rendercgiconfdir)'
	@if test -f '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf'; then \
	  echo "keeping the existing $(DESTDIR)$(rendercgiconfdir)/rendercgi.conf"; \
	  $(INSTALL_DATA) '$(srcdir)/conf-examples/rendercgi.conf' \
	    '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf.example'; \
	else \
	  $(INSTALL_DATA) '$(srcdir)/conf-examples/rendercgi.conf' \
	    '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf'; \
	fi

# A configuration the operator changed stays; the untouched example goes.
uninstall-local:
	rm -f '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf.example'
	@if cmp -s '$(srcdir)/conf-examples/rendercgi.conf' \
	    '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf'; then \
	  rm -f '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf'; \
	elif test -f '$(DESTDIR)$(rendercgiconfdir)/rendercgi.conf'; then \
	  echo "keeping the changed $(DESTDIR)$(rendercgiconfdir)/rendercgi.conf"; \
	fi
