#include <chrono>
#include <cstdio>
#include "executor/plan/plan.h"
#include "executor/state/journal.h"
#include <ctime>
static double cpu_now(){timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&ts); return ts.tv_sec+ts.tv_nsec*1e-9;}
int main(int argc,char**argv){
  double best=1e9; mutcell::Plan plan; std::string err;
  for(int r=0;r<atoi(argv[2]);r++){double t=cpu_now(); mutcell::Plan p; if(!mutcell::LoadPlan(argv[1],mutcell::PlanDefaults{},&p,&err)){puts(err.c_str());return 1;} double s=cpu_now()-t; if(s<best)best=s; plan=std::move(p);}
  printf("plan %s: min %.4f s  fp=%s\n",argv[1],best,plan.fingerprint.c_str());
  if(argc>3){ best=1e9; for(int r=0;r<atoi(argv[2]);r++){double t=cpu_now(); mutcell::JournalContents c; if(!mutcell::LoadJournal(argv[3],&c,&err)){puts(err.c_str());return 1;} double s=cpu_now()-t; if(s<best)best=s;} printf("journal %s: min %.4f s\n",argv[3],best);}
}
