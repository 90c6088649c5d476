package eventgate_test

const crashChildEnv = "EVENTGATE_CRASH_CHILD"

func crashChild() {}
