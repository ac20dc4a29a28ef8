; usb2can Windows installer.
;
; Puts usb2can.dll where LoadLibrary("usb2can.dll") finds it from every
; program without a path: the 64-bit DLL in System32 and the 32-bit DLL in
; SysWOW64 on 64-bit Windows (each process sees the one of its own bitness),
; the 32-bit DLL in System32 on 32-bit Windows. Everything else goes to
; $PROGRAMFILES64\usb2can: the CLI per architecture, headers, import
; libraries, README, docs, LICENSE, a python-can example and the uninstaller.
;
; The uninstaller removes exactly the files listed here (one list serves
; both, see U2C_PAYLOAD_FILES) and only folders that are then empty. A
; usb2can.dll found in a system folder without a usb2can installation (the
; vendor's DLL, say) is kept in $INSTDIR\backup and put back on uninstall.
;
;   makensis -DPRODUCT=usb2can -DVERSION=X.Y.Z -DPUBLISHER=... -DCOPYRIGHT=...
;            -DPAYLOAD=<staged files> -DPAYLOAD_LIST=<payload.nsh>
;            -DOUTFILE=<setup.exe> usb2can.nsi
; as scripts/make-installer.sh runs it: the product, version, publisher and
; copyright are CMakeLists.txt's (the DLL's version resource says the same),
; the payload and its file list scripts/lib/package.sh's.

!ifdef PRODUCT & VERSION & PUBLISHER & COPYRIGHT & PAYLOAD & PAYLOAD_LIST & OUTFILE
!else
  !error "define PRODUCT, VERSION, PUBLISHER, COPYRIGHT, PAYLOAD, PAYLOAD_LIST and OUTFILE (see scripts/make-installer.sh)"
!endif

Unicode true
ManifestSupportedOS all
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!include LogicLib.nsh
!include x64.nsh
!include FileFunc.nsh

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT}"
!define UNINSTALLER "uninstall.exe"
; Exit code of installer and uninstaller when a file was in use and is only
; replaced or removed at the next restart (ERROR_SUCCESS_REBOOT_REQUIRED).
!define EXIT_RESTART_NEEDED 3010

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
ShowInstDetails show
ShowUnInstDetails show

VIProductVersion "${VERSION}.0"
VIFileVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} ${VERSION} setup"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${COPYRIGHT}"

LicenseData "${PAYLOAD}/LICENSE"
Page license
Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; ---------------------------------------------------------------------------
; The files under $INSTDIR, listed once (U2C_PAYLOAD_FILES, written from the
; payload) for the installer and the uninstaller. ACTION is U2C_INSTALL_FILE
; or U2C_REMOVE_FILE; DIR is relative to $INSTDIR and to the payload.
!include "${PAYLOAD_LIST}"

; Folders under $INSTDIR, deepest first, removed on uninstall when empty.
!macro U2C_REMOVE_EMPTY_FOLDERS
  !insertmacro U2C_PAYLOAD_FOLDERS
  RMDir "$INSTDIR\backup\x64"
  RMDir "$INSTDIR\backup\x86"
  RMDir "$INSTDIR\backup"
  RMDir "$INSTDIR"
!macroend

!macro U2C_INSTALL_FILE DIR NAME
  !if "${DIR}" == ""
    SetOutPath "$INSTDIR"
    File "${PAYLOAD}/${NAME}"
  !else
    SetOutPath "$INSTDIR\${DIR}"
    !searchreplace U2C_SOURCE_DIR "${DIR}" "\" "/"
    File "${PAYLOAD}/${U2C_SOURCE_DIR}/${NAME}"
    !undef U2C_SOURCE_DIR
  !endif
!macroend

!macro U2C_REMOVE_FILE DIR NAME
  !if "${DIR}" == ""
    Delete "$INSTDIR\${NAME}"
  !else
    Delete "$INSTDIR\${DIR}\${NAME}"
  !endif
!macroend

; ---------------------------------------------------------------------------
; The system folders. File-system redirection must be off while they are
; touched, or a 32-bit installer's System32 is silently SysWOW64.

!macro U2C_INSTALL_SYSTEM_DLL SYSTEM_DIR ARCH
  ; SetOverwrite try: a DLL loaded by a running program cannot be replaced;
  ; then the new one is staged and swapped in at the next restart.
  SetOverwrite try
  ClearErrors
  File "/oname=${SYSTEM_DIR}\usb2can.dll" "${PAYLOAD}/${ARCH}/usb2can.dll"
  ${If} ${Errors}
    SetOverwrite on
    File "/oname=${SYSTEM_DIR}\usb2can.dll.new" "${PAYLOAD}/${ARCH}/usb2can.dll"
    Rename /REBOOTOK "${SYSTEM_DIR}\usb2can.dll.new" "${SYSTEM_DIR}\usb2can.dll"
    DetailPrint "${SYSTEM_DIR}\usb2can.dll is in use: it is replaced at the next restart"
  ${EndIf}
  SetOverwrite on
!macroend

; Copies with CopyFileW, not CopyFiles: CopyFiles hands the work to the
; shell (SHFileOperation), which may do it on another thread, where the
; file-system redirection this thread turned off is on again, so a 32-bit
; installer would copy SysWOW64's file instead of System32's. Leaves $0 = 1
; on success, else 0, and $1 = the Windows error code.
!macro U2C_COPY_FILE FROM TO
  System::Call 'kernel32::CopyFileW(w "${FROM}", w "${TO}", i 0) i .r0 ?e'
  Pop $1
  ${If} $0 <> 0
    StrCpy $0 1
  ${EndIf}
!macroend

; A usb2can.dll whose version resource does not name exactly our product
; and company is somebody else's (the vendor's, say): keep it to put back on
; uninstall; if it cannot be kept, change nothing. One of ours (an earlier
; version that is still in use, its deletion pending) is simply replaced.
!macro U2C_BACKUP_FOREIGN_DLL SYSTEM_DIR ARCH
  ${If} ${FileExists} "${SYSTEM_DIR}\usb2can.dll"
    Push "${SYSTEM_DIR}\usb2can.dll"
    Call IsOurDll
    Pop $0
    ${If} $0 != 1
      CreateDirectory "$INSTDIR\backup\${ARCH}"
      !insertmacro U2C_COPY_FILE "${SYSTEM_DIR}\usb2can.dll" "$INSTDIR\backup\${ARCH}\usb2can.dll"
      ${If} $0 = 0
        MessageBox MB_ICONSTOP "Could not keep a copy of ${SYSTEM_DIR}\usb2can.dll (Windows error $1): nothing was installed." /SD IDOK
        SetErrorLevel 2
        Abort
      ${EndIf}
      DetailPrint "kept the existing ${SYSTEM_DIR}\usb2can.dll in $INSTDIR\backup\${ARCH}"
    ${EndIf}
  ${EndIf}
!macroend

; Ours goes (at the next restart if a program still uses it), and a kept
; foreign DLL comes back. When ours is still in use the foreign one cannot
; be copied over it: a copy is staged beside it and renamed into place at
; the restart, after ours is deleted. The backup is removed only once the
; foreign DLL is back; otherwise it stays in $INSTDIR\backup.
!macro U2C_REMOVE_SYSTEM_DLL SYSTEM_DIR ARCH
  Delete /REBOOTOK "${SYSTEM_DIR}\usb2can.dll"
  ${If} ${FileExists} "$INSTDIR\backup\${ARCH}\usb2can.dll"
    !insertmacro U2C_COPY_FILE "$INSTDIR\backup\${ARCH}\usb2can.dll" "${SYSTEM_DIR}\usb2can.dll"
    ${If} $0 = 1
      Delete "$INSTDIR\backup\${ARCH}\usb2can.dll"
      DetailPrint "put the earlier ${SYSTEM_DIR}\usb2can.dll back"
    ${Else}
      !insertmacro U2C_COPY_FILE "$INSTDIR\backup\${ARCH}\usb2can.dll" "${SYSTEM_DIR}\usb2can.dll.restore"
      ClearErrors
      ${If} $0 = 1
        Rename /REBOOTOK "${SYSTEM_DIR}\usb2can.dll.restore" "${SYSTEM_DIR}\usb2can.dll"
      ${EndIf}
      ${If} $0 = 1
      ${AndIfNot} ${Errors}
        SetRebootFlag true
        DetailPrint "${SYSTEM_DIR}\usb2can.dll is in use: the earlier one is put back at the next restart; a copy stays in $INSTDIR\backup\${ARCH}"
      ${Else}
        DetailPrint "could not put the earlier ${SYSTEM_DIR}\usb2can.dll back (Windows error $1): it is kept in $INSTDIR\backup\${ARCH}"
      ${EndIf}
    ${EndIf}
  ${EndIf}
!macroend

; ACTION(SYSTEM_DIR, ARCH) for each system folder of this Windows.
!macro U2C_FOR_EACH_SYSTEM_DIR ACTION
  ${If} ${RunningX64}
    ${DisableX64FSRedirection}
    !insertmacro ${ACTION} "$WINDIR\System32" "x64"
    !insertmacro ${ACTION} "$WINDIR\SysWOW64" "x86"
    ${EnableX64FSRedirection}
  ${Else}
    !insertmacro ${ACTION} "$WINDIR\System32" "x86"
  ${EndIf}
!macroend

; The uninstall entry lives in the 64-bit registry view on 64-bit Windows,
; where Add/Remove Programs lists 64-bit products.
!macro U2C_NATIVE_REGISTRY_VIEW
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
!macroend

!macro U2C_REQUIRE_ADMIN
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "Admin"
    MessageBox MB_ICONSTOP "usb2can installs into the Windows system folders: run it as administrator." /SD IDOK
    SetErrorLevel 740 ; ERROR_ELEVATION_REQUIRED
    Quit
  ${EndIf}
!macroend

; ---------------------------------------------------------------------------

Function .onInit
  !insertmacro U2C_REQUIRE_ADMIN
  !insertmacro U2C_NATIVE_REGISTRY_VIEW
FunctionEnd

; Pops a file name (file-system redirection off, as the system folders are
; read), pushes 1 when its version resource (US English, Unicode: the block
; canal/version.rc.in writes) names exactly, case included, our ProductName
; (PRODUCT) and CompanyName (PUBLISHER, both from CMakeLists.txt), else 0.
; version.dll is not called while redirection is off: a 32-bit installer
; could then load System32's 64-bit version.dll and read nothing, taking our
; own older DLL for a foreign one. So the file is copied
; (redirection still off, to reach the real System32) and the copy is read
; with redirection on.
Function IsOurDll
  Exch $0 ; file, then the verdict
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  StrCpy $4 "" ; ProductName
  StrCpy $6 "" ; CompanyName
  InitPluginsDir
  StrCpy $5 "$PLUGINSDIR\version-probe.dll"
  System::Call 'kernel32::CopyFileW(w r0, w r5, i 0) i .r1'
  ${If} $1 <> 0
    ${If} ${RunningX64}
      ${EnableX64FSRedirection}
    ${EndIf}
    System::Call 'version::GetFileVersionInfoSizeW(w r5, *i .r1) i .r1'
    ${If} $1 > 0
      System::Alloc $1
      Pop $2
      System::Call 'version::GetFileVersionInfoW(w r5, i 0, i r1, p r2) i .r3'
      ${If} $3 <> 0
        System::Call 'version::VerQueryValueW(p r2, w "\StringFileInfo\040904b0\ProductName", *p .r3, *i .r1) i .r1'
        ${If} $1 <> 0
          System::Call '*$3(&w64 .r4)'
        ${EndIf}
        System::Call 'version::VerQueryValueW(p r2, w "\StringFileInfo\040904b0\CompanyName", *p .r3, *i .r1) i .r1'
        ${If} $1 <> 0
          System::Call '*$3(&w64 .r6)'
        ${EndIf}
      ${EndIf}
      System::Free $2
    ${EndIf}
    ${If} ${RunningX64}
      ${DisableX64FSRedirection}
    ${EndIf}
    Delete $5
  ${EndIf}
  StrCpy $0 0
  ${If} $4 S== "${PRODUCT}"
  ${AndIf} $6 S== "${PUBLISHER}"
    StrCpy $0 1
  ${EndIf}
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Exch $0
FunctionEnd

; On ARM64 Windows (where ${RunningX64} is true too) the x64 DLL went to
; System32 and the x86 DLL to SysWOW64; there is no ARM64 usb2can.dll.
Function ExplainArm64
  ${If} ${IsNativeARM64}
    DetailPrint "ARM64 Windows: installed the x64 usb2can.dll in System32 and the x86 one in SysWOW64; ARM64-native programs cannot load either"
    MessageBox MB_ICONINFORMATION "This is ARM64 Windows. usb2can installed its x64 usb2can.dll (System32) for x64 programs, which Windows runs under emulation, and its x86 usb2can.dll (SysWOW64) for 32-bit programs. There is no ARM64 usb2can.dll: ARM64-native programs cannot load either of them." /SD IDOK
  ${EndIf}
FunctionEnd

; Runs the uninstaller of an earlier installation in place and waits for it,
; so an upgrade never leaves two entries or stale files.
Function RemovePrevious
  ClearErrors
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "DisplayName"
  ${If} ${Errors}
    Return
  ${EndIf}
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R0 == ""
  ${OrIfNot} ${FileExists} "$R0\${UNINSTALLER}"
    DetailPrint "the earlier installation has no uninstaller: installing over it"
    DeleteRegKey HKLM "${UNINST_KEY}"
    Return
  ${EndIf}
  DetailPrint "removing the earlier installation in $R0"
  ClearErrors
  ; _?= runs the uninstaller in place (no copy to %TEMP%), so ExecWait
  ; really waits for it; it cannot delete itself then, so we do.
  ExecWait '"$R0\${UNINSTALLER}" /S _?=$R0' $R2
  ${If} $R2 == ${EXIT_RESTART_NEEDED}
    SetRebootFlag true
  ${ElseIf} ${Errors}
  ${OrIf} $R2 != 0
    MessageBox MB_ICONSTOP "Could not remove the earlier usb2can in $R0 (exit code $R2)." /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}
  Delete "$R0\${UNINSTALLER}"
  RMDir "$R0"
FunctionEnd

Section "usb2can"
  Call RemovePrevious
  !insertmacro U2C_FOR_EACH_SYSTEM_DIR U2C_BACKUP_FOREIGN_DLL
  !insertmacro U2C_FOR_EACH_SYSTEM_DIR U2C_INSTALL_SYSTEM_DLL
  Call ExplainArm64
  !insertmacro U2C_PAYLOAD_FILES U2C_INSTALL_FILE
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${UNINSTALLER}"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntOp $0 $0 + 1024 ; the two DLLs in the system folders, roughly
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0
SectionEnd

Function .onInstSuccess
  ${If} ${RebootFlag}
    MessageBox MB_ICONINFORMATION "A running program uses usb2can.dll: restart Windows to finish the installation." /SD IDOK
    SetErrorLevel ${EXIT_RESTART_NEEDED}
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------------------

Function un.onInit
  !insertmacro U2C_REQUIRE_ADMIN
  !insertmacro U2C_NATIVE_REGISTRY_VIEW
FunctionEnd

Section "Uninstall"
  !insertmacro U2C_FOR_EACH_SYSTEM_DIR U2C_REMOVE_SYSTEM_DLL
  !insertmacro U2C_PAYLOAD_FILES U2C_REMOVE_FILE
  Delete "$INSTDIR\${UNINSTALLER}"
  !insertmacro U2C_REMOVE_EMPTY_FOLDERS
  DeleteRegKey HKLM "${UNINST_KEY}"
SectionEnd

Function un.onUninstSuccess
  ${If} ${RebootFlag}
    MessageBox MB_ICONINFORMATION "A running program uses usb2can.dll: it is removed when Windows restarts." /SD IDOK
    SetErrorLevel ${EXIT_RESTART_NEEDED}
  ${EndIf}
FunctionEnd
