# common/ — what both programs need. The spawner links only this library
# (no libcurl, yajl or libwebsockets).
noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/rc.c common/rc.h \
	common/log.c common/log.h \
	common/buf.c common/buf.h \
	common/clock.c common/clock.h \
	common/cidr.c common/cidr.h \
	common/conf.c common/conf.h \
	common/scoreboard.c common/scoreboard.h \
	common/proctable.c common/proctable.h
