# spawner/ — rendercgi-spawner, the supervisor. Links libcommon only (no
# libcurl, yajl or libwebsockets). Everything but main.c is a convenience
# library that tests/unit/check_supervise links too.
noinst_LIBRARIES += spawner/libspawner.a
spawner_libspawner_a_SOURCES = \
	spawner/signals.c spawner/signals.h \
	spawner/sockets.c spawner/sockets.h \
	spawner/children.c spawner/children.h \
	spawner/procs.c spawner/procs.h \
	spawner/supervise.c spawner/supervise.h \
	spawner/daemon.c spawner/daemon.h \
	spawner/privs.c spawner/privs.h \
	spawner/confgen.c spawner/confgen.h \
	spawner/logfile.c spawner/logfile.h \
	spawner/watchdog.c spawner/watchdog.h \
	spawner/pools.c spawner/pools.h \
	spawner/replace.c spawner/replace.h \
	spawner/reload.c spawner/reload.h \
	spawner/master.c spawner/master.h

SPAWNER_LIBS = spawner/libspawner.a common/libcommon.a

bin_PROGRAMS += rendercgi-spawner
rendercgi_spawner_SOURCES = spawner/main.c
rendercgi_spawner_LDADD = $(SPAWNER_LIBS)
