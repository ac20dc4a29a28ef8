# Sources of adapter discovery (setupapi/).
set(U2C_SETUPAPI_SOURCES
)
