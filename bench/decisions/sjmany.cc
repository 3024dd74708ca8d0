#include <simdjson.h>
#include <cstdio>
#include <ctime>
static double cpu_now(){timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&ts); return ts.tv_sec+ts.tv_nsec*1e-9;}
using namespace simdjson;
int main(int, char** argv){
  double best=1e9; size_t n=0, sum=0;
  for(int r=0;r<3;r++){
    double t=cpu_now();
    padded_string json; if (padded_string::load(argv[1]).get(json)) return 1;
    ondemand::parser parser; ondemand::document_stream docs;
    if (parser.iterate_many(json, 1<<20).get(docs)) return 1;
    n=0;
    for (auto doc : docs) {
      ondemand::object obj; if (doc.get_object().get(obj)) return 2;
      for (auto f : obj) { std::string_view k; if (f.unescaped_key().get(k)) return 3; ondemand::value v; if (f.value().get(v)) return 4;
        ondemand::json_type ty; if (v.type().get(ty)) return 5;
        if (ty==ondemand::json_type::string){ std::string_view s; if(v.get_string().get(s)) return 6; sum+=s.size(); }
        else if (ty==ondemand::json_type::number){ double d; if(v.get_double().get(d)) return 7; sum+=size_t(d); }
        else if (ty==ondemand::json_type::array){ for (auto e: v.get_array()) { std::string_view s; if(e.get_string().get(s)) return 8; sum+=s.size(); } }
        else if (ty==ondemand::json_type::object){ for (auto e: v.get_object()) { std::string_view s; if(e.value().get_string().get(s)) return 9; sum+=s.size(); } }
      }
      n++;
    }
    double s=cpu_now()-t; if(s<best)best=s;
  }
  printf("%s: %zu docs, min %.4f s (raw iterate_many, no records built)\n",argv[1],n,best); return sum==1;
}
