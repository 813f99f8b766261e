#pragma once
// Debian 12's liblua5.4-dev. Included by path so that no -I (and no pkg-config -llua5.4, which
// would link the shared library) is needed: CLua links liblua5.4.a itself.
#include "/usr/include/lua5.4/lua.h"
#include "/usr/include/lua5.4/lualib.h"
#include "/usr/include/lua5.4/lauxlib.h"
