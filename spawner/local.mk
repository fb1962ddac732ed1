# spawner/ — rendercgi-spawner, the supervisor. Links libcommon only.
noinst_LIBRARIES += spawner/libspawner.a
spawner_libspawner_a_SOURCES = \
	spawner/sockets.c spawner/sockets.h \
	spawner/children.c spawner/children.h \
	spawner/supervise.c spawner/supervise.h \
	spawner/signals.c spawner/signals.h

SPAWNER_LIBS = spawner/libspawner.a common/libcommon.a

bin_PROGRAMS += rendercgi-spawner
rendercgi_spawner_SOURCES = spawner/main.c
rendercgi_spawner_LDADD = $(SPAWNER_LIBS)
