/*
 * exit_closer.h — a test DLL that closes a CANAL handle from its DllMain at
 * process exit (DLL_PROCESS_DETACH with reserved != NULL), when ExitProcess
 * has already ended every other thread. Contract: exit_closer_adopt names
 * the handle; at exit DllMain calls CanalClose on it once and prints how
 * long it took.
 */
#ifndef USB2CAN_EXIT_CLOSER_H
#define USB2CAN_EXIT_CLOSER_H

__declspec(dllexport) void exit_closer_adopt(long handle);

#endif
