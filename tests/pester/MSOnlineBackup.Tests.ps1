# The module under MARS's name: almost every MARS script starts with `Import-Module MSOnlineBackup`, or
# checks `Get-Module -ListAvailable -Name MSOnlineBackup` first. The build's module folder and the install
# layout (`cmake --install`) both hold MSOnlineBackup beside OBAgent. Each test runs a fresh pwsh whose
# PSModulePath is only that folder, so nothing of this process leaks in.

BeforeDiscovery {
    # The install test needs the CMake build folder (the module's grandparent), absent for an installed module.
    $NoBuild = -not (Test-Path -LiteralPath (Join-Path (Split-Path -Parent (Split-Path -Parent $env:OBAGENT_TEST_MODULE)) 'CMakeCache.txt'))
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $modules = Split-Path -Parent $env:OBAGENT_TEST_MODULE     # build/module
    $build = Split-Path -Parent $modules                        # the CMake build folder

    # Runs a script in a fresh pwsh with PSModulePath set to $ModulesDir (and PowerShell's own modules);
    # returns its output lines, throws with them when it fails.
    function Invoke-FreshPwsh([string] $ModulesDir, [string] $Script) {
        $file = Join-Path ([IO.Path]::GetTempPath()) ("obagent-msob-{0}.ps1" -f [guid]::NewGuid().ToString('N'))
        Set-Content -LiteralPath $file -Value "`$ErrorActionPreference = 'Stop'`n$Script"
        $saved = $env:PSModulePath
        try {
            $env:PSModulePath = $ModulesDir + [IO.Path]::PathSeparator + (Join-Path $PSHOME 'Modules')
            $out = & (Get-PwshPath) -NoProfile -NonInteractive -File $file 2>&1
            $rc = $LASTEXITCODE
        } finally {
            $env:PSModulePath = $saved
            Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
        }
        if ($rc -ne 0) { throw "pwsh exited with $rc`n$($out -join "`n")" }
        @($out | ForEach-Object { "$_" })
    }

    $Check = @'
$m = Get-Module -ListAvailable -Name MSOnlineBackup
if (-not $m) { throw 'MSOnlineBackup is not available' }
Import-Module MSOnlineBackup
"base=$((Get-Module MSOnlineBackup).ModuleBase)"
$names = (Get-Command -Module MSOnlineBackup).Name
foreach ($n in 'Start-OBRegistration','Set-OBMachineSetting','New-OBPolicy','Add-OBFileSpec','New-OBFileSpec','New-OBSchedule','Set-OBSchedule','New-OBRetentionPolicy','Set-OBRetentionPolicy','Set-OBPolicy','Get-OBPolicy','Remove-OBPolicy','Start-OBBackup','Get-OBJob','Stop-OBJob','Get-OBRecoverableSource','Get-OBRecoverableItem','New-OBRecoveryOption','Start-OBRecovery','Get-OBAlternateBackupServer','Add-OBSystemState','Set-OBSystemStatePolicy','Get-OBSystemStatePolicy','Start-OBSystemStateBackup','Get-OBMachineUsage','Get-OBAllRecoveryPoints') {
    if ($names -notcontains $n) { throw "MSOnlineBackup does not export $n" }
}
"count=$($names.Count)"
# The cmdlets work through it: a policy object, a file spec, a schedule.
$p = New-OBPolicy
$null = Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec '/srv/data')
$null = Set-OBSchedule -Policy $p -Schedule (New-OBSchedule -DaysOfWeek Saturday -TimesOfDay 16:00)
"state=$($p.State)"
'@
}

Describe 'Import-Module MSOnlineBackup' {
    It 'is available by name from the build''s module folder and exports the MARS cmdlets' {
        $out = @(Invoke-FreshPwsh $modules $Check)
        $out | Should -Contain ("base=" + (Join-Path $modules 'MSOnlineBackup'))
        $count = [int](($out | Where-Object { $_ -like 'count=*' }) -replace 'count=', '')
        $count | Should -Be (Get-Command -Module OBAgent -ErrorAction SilentlyContinue).Count -Because 'MSOnlineBackup exports every OBAgent cmdlet'
        $out | Should -Contain 'state=New'
    }

    It 'loads by its full path too, as scripts that do not touch PSModulePath do' {
        $psd1 = Join-Path $modules 'MSOnlineBackup/MSOnlineBackup.psd1'
        $out = @(Invoke-FreshPwsh ([IO.Path]::GetTempPath()) "Import-Module '$psd1'; (Get-Command Start-OBBackup).Source")
        $out[-1] | Should -Be 'MSOnlineBackup'
    }

    It 'is installed beside OBAgent by cmake --install, importable by name from there' -Skip:$NoBuild {
        $prefix = Join-Path ([IO.Path]::GetTempPath()) ("obagent-install-{0}" -f [guid]::NewGuid().ToString('N').Substring(0, 12))
        try {
            $log = & cmake --install $build --prefix $prefix 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($log -join "`n")
            $installed = Join-Path $prefix 'share/powershell/Modules'
            foreach ($f in 'OBAgent/OBAgent.psd1', 'OBAgent/OBAgent.dll', 'OBAgent/OBAgent.Types.ps1xml', 'OBAgent/obagent', 'MSOnlineBackup/MSOnlineBackup.psd1') {
                Join-Path $installed $f | Should -Exist
            }
            $out = @(Invoke-FreshPwsh $installed $Check)
            $out | Should -Contain ("base=" + (Join-Path $installed 'MSOnlineBackup'))
            $out | Should -Contain 'state=New'
        } finally {
            Remove-Item -LiteralPath $prefix -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}
